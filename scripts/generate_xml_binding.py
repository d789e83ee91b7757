#!/usr/bin/env python3
"""Generate crates/oscal-io/src/xml/binding.rs from the OSCAL metaschema.

Run from the repository root:

    python3 scripts/generate_xml_binding.py && cargo fmt -p oscal-io

The input is oscal-schemas/metaschema/oscal_complete_metaschema.xml and the modules it imports.
For every assembly and field definition (global or inline) the output records what the XML and
JSON forms need: flags (XML attributes, JSON properties) with their datatypes, the model's
children in order with their XML element name, JSON property name, cardinality, `group-as`
wrapping and markup handling, and a field's JSON value key. Nothing here is hand-maintained.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
import xml.etree.ElementTree as ET

ROOT = Path(__file__).resolve().parent.parent
METASCHEMA = ROOT / "oscal-schemas" / "metaschema"
OUTPUT = ROOT / "crates" / "oscal-io" / "src" / "xml" / "binding.rs"
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
                f"value_key: {opt(d.value_key)} }},"
            )
        out.append("];")
        out.append("")
        return "\n".join(out)


def main() -> int:
    generator = Generator()
    generator.run()
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(generator.emit(), encoding="utf-8")
    print(f"wrote {len(generator.defs)} definitions to {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
