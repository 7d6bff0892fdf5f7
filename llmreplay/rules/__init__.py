"""Rules: scripted replies, matched on the neutral request so that one rule serves every provider API.

A rules file (``--rules FILE``; YAML, TOML or JSON) lists rules; each matches requests (model, messages,
tools offered, tool results, turn, headers, body …) and answers them (text, tool calls, JSON, thinking, a
refusal, an outcome, timing, or a recorded reply), once, a number of times, or as steps in turn. The road
asks :meth:`RuleBook.match` before any other source; docs/rules.md is the reference.

Modules: ``spec`` (the file's shape, pydantic), ``load`` (reading and one line per problem), ``matchers``
and ``values`` (tests compiled once), ``template`` (placeholders), ``answer`` (a step's Reply), ``book`` (the
rules in force and their counts), ``shadow`` (rules that can never match).
"""

from llmreplay.rules.book import Hit, Rule, RuleBook
from llmreplay.rules.load import Problem, RulesError, load_rules, parse_rules
from llmreplay.rules.shadow import shadowed

__all__ = ["Hit", "Problem", "Rule", "RuleBook", "RulesError", "load_rules", "parse_rules", "shadowed"]
