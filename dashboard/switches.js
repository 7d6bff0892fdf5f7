// The endpoints' on/off switches: every endpoint in one list, so a switched-off one shows at a glance.

const $ = (id) => document.getElementById(id);

export class EndpointSwitches {
  /**
   * controls: the Controls that own the configuration; the switches read it through stateOf(name) →
   * {enabled, own} and send through controls.send, so their PATCHes queue behind the other controls'.
   */
  constructor(controls) {
    this.controls = controls;
    this.names = [];
    this.bind();
  }

  setEndpoints(names) {
    this.names = names;
    $("endpoint-list").replaceChildren(
      ...names.map((name) => {
        const li = document.createElement("li");
        li.dataset.endpoint = name;
        const check = Object.assign(document.createElement("input"), { type: "checkbox", value: name });
        check.setAttribute("data-testid", `enabled-${name}`);
        const label = document.createElement("label");
        label.className = "check";
        label.append(check, ` ${name}`);
        const state = document.createElement("span");
        state.className = "state";
        state.setAttribute("data-testid", `state-${name}`);
        li.append(label, state);
        return li;
      }),
    );
  }

  render() {
    const c = this.controls;
    c.setValue($("enabled-global"), c.config.global.enabled !== false);
    for (const li of $("endpoint-list").children) {
      const { enabled, own } = c.stateOf(li.dataset.endpoint);
      c.setValue(li.querySelector("input"), enabled);
      li.classList.toggle("off", !enabled);
      const state = li.querySelector(".state");
      state.textContent = `${enabled ? "on" : "off"}${own ? " (own)" : ""}`;
      state.title = own ? "set on this endpoint itself" : "inherited (from global, or from the endpoint it refines)";
    }
  }

  bind() {
    const send = (scope, el) => {
      this.controls.touch(el);
      this.controls.send(scope, { enabled: el.checked }, $("endpoints-error"));
    };
    $("enabled-global").addEventListener("change", (e) => send("global", e.target));
    $("endpoint-list").addEventListener("change", (e) => {
      if (e.target.type === "checkbox") send(e.target.value, e.target);
    });
  }
}
