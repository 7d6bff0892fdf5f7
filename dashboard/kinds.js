// The failure kinds: the Failure modes panel that lists them and the Error injection table that picks them.

const $ = (id) => document.getElementById(id);

// The server says which spelling to offer (GET /api/failure-modes "example"); the page names no kind itself.
function exampleSpec(mode) {
  if (typeof mode.example === "string" && mode.example) return mode.example;
  const first = String(mode.syntax || mode.name).split("|")[0].trim();
  return first.replace(/MS/g, "1000").replace(/N/g, "3");
}

/** The failure kind a spec such as "disconnect@50%" or "timeout:500" belongs to. */
function kindOf(spec) {
  return String(spec).split(/[@:]/)[0];
}

export class FailureKinds {
  constructor() {
    this.extra = {}; // specs from the config that no row of the table represents
  }

  /** Both tables from GET /api/failure-modes (hello's failure_modes). */
  build(modes) {
    this.buildModes(modes);
    const body = $("kinds").tBodies[0];
    body.replaceChildren();
    for (const mode of modes) {
      const tr = document.createElement("tr");
      tr.dataset.kind = mode.name;
      const param = String(mode.syntax || mode.name) !== mode.name;
      const check = Object.assign(document.createElement("input"), { type: "checkbox", title: mode.description || "" });
      check.dataset.testid = `kind-${mode.name}`;
      check.setAttribute("data-testid", `kind-${mode.name}`);
      check.className = "kind-check";
      const weight = Object.assign(document.createElement("input"), {
        type: "number",
        min: "0",
        step: "any",
        value: "1",
        className: "kind-weight",
      });
      weight.setAttribute("data-testid", `kind-weight-${mode.name}`);
      weight.setAttribute("aria-label", `weight of ${mode.name}`);
      const label = document.createElement("label");
      label.append(check, ` ${mode.name}`);
      const td1 = document.createElement("td");
      td1.append(label);
      const td2 = document.createElement("td");
      td2.append(weight);
      const td3 = document.createElement("td");
      if (param) {
        const spec = Object.assign(document.createElement("input"), {
          type: "text",
          value: exampleSpec(mode),
          placeholder: mode.syntax || "",
          className: "kind-spec",
          spellcheck: false,
        });
        spec.setAttribute("data-testid", `kind-spec-${mode.name}`);
        spec.setAttribute("aria-label", `spec of ${mode.name}`);
        td3.append(spec);
      }
      tr.append(td1, td2, td3);
      body.append(tr);
    }
  }

  buildModes(modes) {
    const body = $("failure-modes").tBodies[0];
    body.replaceChildren(
      ...modes.map((m) => {
        const tr = document.createElement("tr");
        tr.dataset.kind = m.name;
        const a = document.createElement("td");
        const code = document.createElement("code");
        code.textContent = m.syntax || m.name;
        a.append(code);
        const b = document.createElement("td");
        b.textContent = m.description || "";
        tr.append(a, b);
        return tr;
      }),
    );
  }

  /** Show a configuration's kinds; leaves the table alone while the user edits any of it (handsOff(el)). */
  render(kinds, handsOff) {
    const rows = [...$("kinds").tBodies[0].rows];
    if (rows.some((tr) => [...tr.querySelectorAll("input")].some((el) => handsOff(el)))) return;
    const extra = { ...kinds };
    for (const tr of rows) {
      const name = tr.dataset.kind;
      const check = tr.querySelector(".kind-check");
      const weight = tr.querySelector(".kind-weight");
      const spec = tr.querySelector(".kind-spec");
      const key = Object.keys(extra).find((k) => k === name || (spec && kindOf(k) === name));
      check.checked = key !== undefined;
      if (key !== undefined) {
        weight.value = String(extra[key]);
        if (spec) spec.value = key;
        delete extra[key];
      }
    }
    this.extra = extra;
  }

  /** The kinds as the table shows them, with the configuration's extra specs kept. */
  value() {
    const kinds = { ...this.extra };
    for (const tr of $("kinds").tBodies[0].rows) {
      if (!tr.querySelector(".kind-check").checked) continue;
      const spec = tr.querySelector(".kind-spec");
      const key = spec ? spec.value.trim() || tr.dataset.kind : tr.dataset.kind;
      const w = tr.querySelector(".kind-weight").value;
      kinds[key] = w === "" || !Number.isFinite(Number(w)) ? 1 : Number(w);
    }
    return kinds;
  }
}
