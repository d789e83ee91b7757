#!/usr/bin/env python3
"""Generate crates/oscal-model/src/generated.rs from the vendored OSCAL JSON schema.

Run from the repository root:

    python3 scripts/generate_model.py && cargo fmt -p oscal-model

The input is oscal-schemas/json/oscal_complete_schema.json (the official OSCAL
release schema). Every object definition, named or inline, becomes a Rust struct
with serde derives and the OSCAL JSON property names. Choices (`anyOf` branches)
are merged into one struct whose fields are required only when every branch
requires them. Datatypes map to Rust types as in DATATYPES below.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "oscal-schemas" / "json" / "oscal_complete_schema.json"
OUTPUT = ROOT / "crates" / "oscal-model" / "src" / "generated.rs"

DEF_PREFIX = "#/definitions/"
MODULE_PREFIX = "oscal-complete-oscal-"

DATATYPES = {
    "Base64Datatype": "String",
    "BooleanDatatype": "bool",
    "DateDatatype": "String",
    "DateTimeWithTimezoneDatatype": "String",
    "DecimalDatatype": "Decimal",
    "EmailAddressDatatype": "String",
    "IntegerDatatype": "i64",
    "MarkupLineDatatype": "String",
    "MarkupMultilineDatatype": "String",
    "NonNegativeIntegerDatatype": "u64",
    "PositiveIntegerDatatype": "u64",
    "StringDatatype": "String",
    "TokenDatatype": "String",
    "URIDatatype": "String",
    "URIReferenceDatatype": "String",
    "UUIDDatatype": "String",
    "json-schema-directive": "String",
}

# Names that would shadow std items or read ambiguously in Rust code.
RENAMES = {
    "Result": "AssessmentResult",
    "Status": "SystemStatus",
}

RUST_KEYWORDS = {
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else",
    "enum", "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop",
    "match", "mod", "move", "mut", "pub", "ref", "return", "self", "Self",
    "static", "struct", "super", "trait", "true", "type", "unsafe", "use",
    "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try",
}


def pascal(text: str) -> str:
    words = re.split(r"[^0-9A-Za-z]+", text)
    return "".join(w[:1].upper() + w[1:] for w in words if w)


def snake(text: str) -> str:
    name = re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_").lower()
    if name in RUST_KEYWORDS:
        name = f"r#{name}"
    return name


def doc_lines(text: str | None) -> list[str]:
    if not text:
        return []
    return [line.rstrip() for line in text.strip().splitlines()]


class Generator:
    def __init__(self, schema: dict) -> None:
        self.schema = schema
        self.defs: dict = schema["definitions"]
        self.structs: dict[str, dict] = {}
        self.order: list[str] = []
        self.def_names: dict[str, str] = {}
        self.taken: set[str] = set()
        self.reserve_definition_names()

    def reserve_definition_names(self) -> None:
        local: dict[str, list[str]] = {}
        for key, node in self.defs.items():
            if not self.is_object(node) or not key.startswith(MODULE_PREFIX):
                continue
            module, _, name = key[len(MODULE_PREFIX):].partition(":")
            local.setdefault(name, []).append(module)
        for key, node in self.defs.items():
            if not self.is_object(node) or not key.startswith(MODULE_PREFIX):
                continue
            module, _, name = key[len(MODULE_PREFIX):].partition(":")
            rust = pascal(name) if len(local[name]) == 1 else pascal(module) + pascal(name)
            rust = RENAMES.get(rust, rust)
            self.def_names[key] = rust
            self.taken.add(rust)

    @staticmethod
    def is_object(node: dict) -> bool:
        return node.get("type") == "object"

    def follow(self, ref: str) -> tuple[str, dict]:
        assert ref.startswith(DEF_PREFIX), ref
        key = ref[len(DEF_PREFIX):]
        return key, self.defs[key]

    def scalar_of(self, node: dict) -> str | None:
        """The Rust type of a node that is a (possibly constrained) datatype."""
        if "$ref" in node:
            key, target = self.follow(node["$ref"])
            if key in DATATYPES:
                return DATATYPES[key]
            if self.is_object(target):
                return None
            return self.scalar_of(target)
        for combinator in ("allOf", "anyOf"):
            if combinator in node and not self.is_object(node):
                for branch in node[combinator]:
                    found = self.scalar_of(branch)
                    if found:
                        return found
                return "String"
        kind = node.get("type")
        if kind == "string":
            return "String"
        if kind == "boolean":
            return "bool"
        if kind == "integer":
            return "i64"
        if kind == "number":
            return "Decimal"
        return None

    def rust_type(self, nodes: list[dict], parent: str, prop: str) -> str:
        node = nodes[0]
        if node.get("type") == "array":
            inner = self.rust_type([n["items"] for n in nodes], parent, prop)
            return f"Vec<{inner}>"
        if "$ref" in node:
            key, target = self.follow(node["$ref"])
            if key in self.def_names:
                self.ensure_struct(key, target)
                return self.def_names[key]
        scalar = self.scalar_of(node)
        if scalar:
            return scalar
        if self.is_object(node):
            return self.inline_struct(nodes, parent, prop)
        raise ValueError(f"unsupported schema node at {parent}.{prop}: {node}")

    def inline_struct(self, nodes: list[dict], parent: str, prop: str) -> str:
        title = nodes[0].get("title") or prop
        name = RENAMES.get(pascal(title), pascal(title))
        if name in self.taken:
            name = parent + pascal(title)
        assert name not in self.taken, name
        self.taken.add(name)
        self.build_struct(name, nodes, nodes[0].get("description") or title)
        return name

    def ensure_struct(self, key: str, node: dict) -> None:
        name = self.def_names[key]
        if name in self.structs:
            return
        self.structs[name] = {}  # placeholder against recursion
        self.build_struct(name, [node], node.get("description") or node.get("title"), key)

    def build_struct(self, name: str, nodes: list[dict], doc: str | None, key: str | None = None) -> None:
        branches: list[dict] = []
        for node in nodes:
            branches.extend(node["anyOf"] if "anyOf" in node else [node])
        props: dict[str, list[dict]] = {}
        required_everywhere: set[str] | None = None
        for branch in branches:
            for prop, sub in branch.get("properties", {}).items():
                props.setdefault(prop, []).append(sub)
            required = set(branch.get("required", []))
            required_everywhere = required if required_everywhere is None else required_everywhere & required
        required_everywhere = required_everywhere or set()
        self.structs[name] = {}
        fields = []
        for prop, subs in props.items():
            in_all = all(prop in b.get("properties", {}) for b in branches)
            fields.append(
                {
                    "json": prop,
                    "rust": snake(prop),
                    "type": self.rust_type(subs, name, prop),
                    "required": prop in required_everywhere and in_all,
                    "doc": subs[0].get("description") or subs[0].get("title") or f"The `{prop}` property.",
                }
            )
        self.structs[name] = {"doc": doc, "fields": fields, "key": key}
        self.order.append(name)

    def run(self) -> None:
        for key, node in self.defs.items():
            if key in self.def_names:
                self.ensure_struct(key, node)

    def boxed_fields(self) -> set[tuple[str, str]]:
        """Fields that must be boxed because a struct would contain itself by value."""
        boxed = set()

        def direct(type_name: str) -> str | None:
            inner = type_name
            return inner if inner in self.structs else None

        for name in self.order:
            for field in self.structs[name]["fields"]:
                start = direct(field["type"])
                if not start:
                    continue
                stack, seen = [start], set()
                while stack:
                    cur = stack.pop()
                    if cur == name:
                        boxed.add((name, field["json"]))
                        break
                    if cur in seen:
                        continue
                    seen.add(cur)
                    for f in self.structs[cur]["fields"]:
                        nxt = direct(f["type"])
                        if nxt:
                            stack.append(nxt)
        return boxed

    def emit(self) -> str:
        boxed = self.boxed_fields()
        out = [
            "// @generated by scripts/generate_model.py from",
            "// oscal-schemas/json/oscal_complete_schema.json. Do not edit by hand; rerun:",
            "//     python3 scripts/generate_model.py && cargo fmt -p oscal-model",
            "",
            "//! One struct per object definition of the OSCAL schema, named or inline.",
            "",
            "use serde::{Deserialize, Serialize};",
            "",
            "use crate::{CollectUnrecognized, Decimal, Unrecognized};",
            "",
        ]
        for name in sorted(self.order):
            struct = self.structs[name]
            for line in doc_lines(struct["doc"]):
                out.append(f"/// {line}".rstrip())
            if struct["key"]:
                out.append("///")
                out.append(f"/// Schema definition `{struct['key']}`.")
            # Default needs a default for every required field; `Decimal` has none.
            derives = ["Debug", "Clone", "Default", "PartialEq", "Serialize", "Deserialize"]
            if any(f["required"] and f["type"] == "Decimal" for f in struct["fields"]):
                derives.remove("Default")
            out.append(f"#[derive({', '.join(derives)})]")
            out.append(f"pub struct {name} {{")
            for field in struct["fields"]:
                for line in doc_lines(field["doc"]):
                    out.append(f"    /// {line}".rstrip())
                rust_type = field["type"]
                if (name, field["json"]) in boxed:
                    rust_type = f"Box<{rust_type}>"
                attrs = [f'rename = "{field["json"]}"']
                if field["required"]:
                    out.append(f"    #[serde({', '.join(attrs)})]")
                    out.append(f"    pub {field['rust']}: {rust_type},")
                else:
                    attrs += ["default", 'skip_serializing_if = "Option::is_none"']
                    out.append(f"    #[serde({', '.join(attrs)})]")
                    out.append(f"    pub {field['rust']}: Option<{rust_type}>,")
            out.append("    /// Properties this model release does not define, kept verbatim.")
            out.append("    #[serde(flatten)]")
            out.append("    pub unrecognized: Unrecognized,")
            out.append("}")
            out.append("")
            out.append(f"impl CollectUnrecognized for {name} {{")
            out.append("    fn collect_unrecognized(&self, at: &mut String, out: &mut Vec<String>) {")
            if any(self.holds_struct(f["type"]) for f in struct["fields"]):
                out.append("        let len = at.len();")
            out.append("        for key in self.unrecognized.keys() {")
            out.append("            out.push(format!(\"{at}/{key}\"));")
            out.append("        }")
            for field in struct["fields"]:
                if not self.holds_struct(field["type"]):
                    continue
                out.append(f'        at.push_str("/{field["json"]}");')
                out.append(f"        self.{field['rust']}.collect_unrecognized(at, out);")
                out.append("        at.truncate(len);")
            out.append("    }")
            out.append("}")
            out.append("")
        return "\n".join(out)

    def holds_struct(self, rust_type: str) -> bool:
        return re.sub(r"^(Vec<)+|>+$", "", rust_type) in self.structs


def main() -> int:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    generator = Generator(schema)
    generator.run()
    OUTPUT.write_text(generator.emit(), encoding="utf-8")
    print(f"wrote {len(generator.order)} structs to {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
