#!/usr/bin/env python3
"""Generate crates/oscal-io/src/xml/binding.rs from the OSCAL metaschema.

Run from the repository root:

    python3 scripts/generate_xml_binding.py && cargo fmt -p oscal-io

The input is oscal-schemas/metaschema/oscal_complete_metaschema.xml and the modules it imports.
For every assembly and field definition (global or inline) the output records what the XML and
JSON forms need: flags (XML attributes, JSON properties) with their datatypes, the model's
children in order with their XML element name, JSON property name, cardinality, `group-as`
wrapping and markup handling, and a field's JSON value key. Nothing here is hand-maintained.

The JSON schema (oscal-schemas/json/oscal_complete_schema.json), from which the typed model is
generated, adds what a JSON object of each definition looks like there: the order of its
properties (a choice can put them in another order than the XML elements) and which of them
are required (in every branch of a choice), so that XML can be written as JSON text directly,
as the model would write it.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
import xml.etree.ElementTree as ET

ROOT = Path(__file__).resolve().parent.parent
METASCHEMA = ROOT / "oscal-schemas" / "metaschema"
OUTPUT = ROOT / "crates" / "oscal-io" / "src" / "xml" / "binding.rs"
JSON_SCHEMA = ROOT / "oscal-schemas" / "json" / "oscal_complete_schema.json"
NS = "{http://csrc.nist.gov/ns/oscal/metaschema/1.0}"

VALUE_TYPES = {
    "markup-line": "MarkupLine",
    "markup-multiline": "MarkupMultiline",
    "boolean": "Boolean",
    "integer": "Integer",
    "non-negative-integer": "Integer",
    "positive-integer": "Integer",
    "decimal": "Decimal",
}


def value_type(as_type: str | None, default: str = "string") -> str:
    return VALUE_TYPES.get(as_type or default, "String")


def load(path: Path) -> ET.Element:
    text = path.read_text(encoding="utf-8")
    # The modules pull allowed-value lists in through external entities; they are constraints,
    # not structure, so the DOCTYPE and the references go.
    text = re.sub(r"<!DOCTYPE[^\[]*\[.*?\]>", "", text, flags=re.S)
    text = re.sub(r"&(?!amp;|lt;|gt;|quot;|apos;|#)[A-Za-z0-9_.-]+;", "", text)
    return ET.fromstring(text)


@dataclass
class Module:
    short_name: str
    root: ET.Element
    imports: list[str]
    globals: dict[tuple[str, str], ET.Element] = field(default_factory=dict)


@dataclass
class Def:
    index: int
    name: str
    kind: str  # "Assembly" or "Field"
    root_name: str | None
    flags: list[tuple[str, str]] = field(default_factory=list)
    children: list[dict] = field(default_factory=list)
    value: str = "String"
    value_key: str | None = None
    # Filled from the JSON schema: bit i set when member i (flags, then children or the value
    # key) is required; the JSON rank of each member when it is not its index.
    required: int = 0
    json_order: list[int] = field(default_factory=list)

    def members(self) -> list[str]:
        """JSON property names of an object of this definition: flags, then children or value."""
        names = [name for name, _ in self.flags]
        if self.kind == "Assembly":
            return names + [c["json"] for c in self.children]
        return names + [self.value_key] if self.flags else []


class Generator:
    def __init__(self) -> None:
        self.modules: dict[str, Module] = {}
        self.defs: list[Def] = []
        self.by_element: dict[int, Def] = {}
        self.load_module("oscal_complete_metaschema.xml")

    def load_module(self, file_name: str) -> str:
        root = load(METASCHEMA / file_name)
        short = root.findtext(f"{NS}short-name")
        if short in self.modules:
            return short
        imports = [i.get("href") for i in root.findall(f"{NS}import")]
        module = Module(short, root, [])
        self.modules[short] = module
        module.imports = [self.load_module(href) for href in imports]
        for child in root:
            tag = child.tag.replace(NS, "")
            if tag in ("define-assembly", "define-field", "define-flag"):
                module.globals[(tag, child.get("name"))] = child
        return short

    def lookup(self, module: str, tag: str, name: str) -> tuple[str, ET.Element]:
        seen, queue = set(), [module]
        while queue:
            current = queue.pop(0)
            if current in seen:
                continue
            seen.add(current)
            found = self.modules[current].globals.get((tag, name))
            if found is not None:
                return current, found
            queue.extend(self.modules[current].imports)
        raise KeyError(f"{tag} {name} not found from {module}")

    def definition(self, module: str, element: ET.Element) -> Def:
        key = id(element)
        if key in self.by_element:
            return self.by_element[key]
        tag = element.tag.replace(NS, "")
        kind = "Assembly" if tag == "define-assembly" else "Field"
        d = Def(len(self.defs), element.get("name"), kind, element.findtext(f"{NS}root-name"))
        self.defs.append(d)
        self.by_element[key] = d
        for flag in element.findall(f"{NS}flag") + element.findall(f"{NS}define-flag"):
            d.flags.append(self.flag(module, flag))
        # Flags are declared in document order in the metaschema; keep that order.
        order = {id(f): i for i, f in enumerate(element)}
        flags = element.findall(f"{NS}flag") + element.findall(f"{NS}define-flag")
        flags.sort(key=lambda f: order[id(f)])
        d.flags = [self.flag(module, f) for f in flags]
        if kind == "Field":
            d.value = value_type(element.get("as-type"))
            d.value_key = element.findtext(f"{NS}json-value-key")
            if d.flags and not d.value_key:
                d.value_key = {"MarkupLine": "RICHTEXT", "MarkupMultiline": "PROSE"}.get(
                    d.value, "STRVALUE"
                )
        else:
            model = element.find(f"{NS}model")
            if model is not None:
                self.model(module, model, d)
        return d

    def flag(self, module: str, flag: ET.Element) -> tuple[str, str]:
        if flag.tag == f"{NS}flag":
            _, target = self.lookup(module, "define-flag", flag.get("ref"))
            name = (
                flag.findtext(f"{NS}use-name")
                or target.findtext(f"{NS}use-name")
                or target.get("name")
            )
            return name, value_type(target.get("as-type"))
        return flag.findtext(f"{NS}use-name") or flag.get("name"), value_type(flag.get("as-type"))

    def model(self, module: str, model: ET.Element, d: Def) -> None:
        for child in model:
            tag = child.tag.replace(NS, "")
            if tag == "choice":
                self.model(module, child, d)
                continue
            if tag in ("assembly", "field"):
                def_module, target = self.lookup(module, f"define-{tag}", child.get("ref"))
                target_def = self.definition(def_module, target)
                name = child.findtext(f"{NS}use-name") or target.findtext(f"{NS}use-name") or target.get("name")
                in_xml = child.get("in-xml") or target.get("in-xml")
            elif tag in ("define-assembly", "define-field"):
                target_def = self.definition(module, child)
                name = child.findtext(f"{NS}use-name") or child.get("name")
                in_xml = child.get("in-xml")
            else:
                continue
            max_occurs = child.get("max-occurs", "1")
            many = max_occurs != "1"
            group = child.find(f"{NS}group-as")
            json_name = group.get("name") if (many and group is not None) else name
            in_json = group.get("in-json", "SINGLETON_OR_ARRAY") if (many and group is not None) else "ARRAY"
            wrapper = None
            if many and group is not None and group.get("in-xml") == "GROUPED":
                wrapper = group.get("name")
            unwrapped = (
                target_def.kind == "Field"
                and target_def.value == "MarkupMultiline"
                and in_xml == "UNWRAPPED"
            )
            d.children.append(
                {
                    "name": name,
                    "json": json_name,
                    "def": target_def.index,
                    "many": many,
                    "array_always": in_json == "ARRAY",
                    "wrapper": wrapper,
                    "unwrapped": unwrapped,
                }
            )

    def run(self) -> None:
        for module in self.modules.values():
            for (tag, _), element in module.globals.items():
                if tag == "define-assembly" and element.findtext(f"{NS}root-name"):
                    self.definition(module.short_name, element)

    def json_shape(self) -> None:
        """Property order and required properties of each definition's JSON object."""
        schema = json.loads(JSON_SCHEMA.read_text(encoding="utf-8"))
        definitions = schema["definitions"]

        def resolve(node: dict) -> dict:
            while "$ref" in node:
                node = definitions[node["$ref"].rsplit("/", 1)[-1]]
            return node

        def item(node: dict) -> dict:
            """The object a property holds, through arrays and singleton-or-array choices."""
            node = resolve(node)
            if node.get("type") == "array":
                return item(node["items"])
            if "anyOf" in node and node.get("type") != "object":
                for branch in node["anyOf"]:
                    if resolve(branch).get("type") == "array":
                        return item(resolve(branch)["items"])
                return resolve(node["anyOf"][0])
            return node

        def branches(node: dict) -> list[dict]:
            node = resolve(node)
            return [resolve(b) for b in node.get("anyOf", [node])]

        def properties(node: dict) -> list[str]:
            names: list[str] = []
            for branch in branches(node):
                for name in branch.get("properties", {}):
                    if name not in names:
                        names.append(name)
            return names

        def required(node: dict) -> set[str]:
            found: set[str] | None = None
            all_branches = branches(node)
            for branch in all_branches:
                here = set(branch.get("required", []))
                found = here if found is None else found & here
            return {
                name
                for name in found or set()
                if all(name in b.get("properties", {}) for b in all_branches)
            }

        nodes: dict[int, dict] = {}

        def walk(d: Def, node: dict) -> None:
            if d.index in nodes:
                return
            nodes[d.index] = node
            if d.kind != "Assembly":
                return
            props = {}
            for branch in branches(node):
                for name, sub in branch.get("properties", {}).items():
                    props.setdefault(name, sub)
            for c in d.children:
                if c["json"] in props:
                    walk(self.defs[c["def"]], item(props[c["json"]]))

        roots = {}
        for branch in schema["oneOf"]:
            roots.update(branch["properties"])
        for d in self.defs:
            if d.root_name:
                walk(d, item(roots[d.root_name]))
        for d in self.defs:
            node = nodes.get(d.index)
            members = d.members()
            assert len(members) <= 64, d.name
            if node is None or not members:
                continue
            order = properties(node)
            needed = required(node)
            d.required = sum(1 << i for i, name in enumerate(members) if name in needed)
            ranks = [order.index(name) if name in order else len(order) + i for i, name in enumerate(members)]
            # A property the JSON schema does not list keeps its place after the listed ones.
            if ranks != sorted(ranks):
                d.json_order = [sorted(ranks).index(r) for r in ranks]

    def emit(self) -> str:
        def opt(value: str | None) -> str:
            return f'Some("{value}")' if value else "None"

        out = [
            "// @generated by scripts/generate_xml_binding.py from oscal-schemas/metaschema.",
            "// Do not edit by hand; rerun:",
            "//     python3 scripts/generate_xml_binding.py && cargo fmt -p oscal-io",
            "",
            "//! How each OSCAL definition maps between XML and JSON, from the metaschema.",
            "",
            "use super::schema::{Child, Def, Kind, ValueType};",
            "",
            f"/// Every assembly and field definition reachable from a model root ({len(self.defs)}).",
            f"pub(crate) static DEFS: [Def; {len(self.defs)}] = [",
        ]
        for d in self.defs:
            flags = ", ".join(f'("{n}", ValueType::{t})' for n, t in d.flags)
            children = ", ".join(
                "Child { "
                f'name: "{c["name"]}", json: "{c["json"]}", def: {c["def"]}, many: {str(c["many"]).lower()}, '
                f'array_always: {str(c["array_always"]).lower()}, wrapper: {opt(c["wrapper"])}, '
                f'unwrapped: {str(c["unwrapped"]).lower()} }}'
                for c in d.children
            )
            out.append(
                f'    // {d.index}: {d.name}\n'
                f'    Def {{ kind: Kind::{d.kind}, root: {opt(d.root_name)}, '
                f"flags: &[{flags}], children: &[{children}], value: ValueType::{d.value}, "
                f"value_key: {opt(d.value_key)}, required: {d.required:#x}, "
                f"json_order: &[{', '.join(map(str, d.json_order))}] }},"
            )
        out.append("];")
        out.append("")
        return "\n".join(out)


def main() -> int:
    generator = Generator()
    generator.run()
    generator.json_shape()
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(generator.emit(), encoding="utf-8")
    print(f"wrote {len(generator.defs)} definitions to {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
