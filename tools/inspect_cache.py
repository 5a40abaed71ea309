#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Documentation cache of the neurotokens plugin, in the spirit of gst-plugins-rs.

  inspect_cache.py check  CACHE DOCS_DIR   fail if the cache is stale or docs are incomplete
  inspect_cache.py update CACHE            rewrite the cache from the built plugin

The cache (docs/plugin-cache.json) holds what gst-inspect-1.0 shows of every
element: metadata, pad templates and every property with type, default, range
and blurb. It is committed and reviewed like code: `check` fails when the
built plugin no longer matches it, when a property has no blurb, or when an
element's docs/<element>.md does not mention one of its properties.
"""
import json
import os
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GObject, Gst  # noqa: E402

SKIP_PROPS = {"name", "parent"}


def value_repr(v):
    model_dir = os.environ.get("NEUROTOKENS_MODEL_DIR")
    if isinstance(v, str) and model_dir:
        # Defaults that name a shipped model hold this checkout's path.
        return v.replace(model_dir.rstrip("/"), "$NEUROTOKENS_MODEL_DIR")
    if isinstance(v, (bool, int, float, str)) or v is None:
        return v
    if hasattr(v, "value_nick"):
        return v.value_nick
    return str(v)


def describe_property(pspec):
    d = {
        "type": GObject.type_name(pspec.value_type),
        "blurb": pspec.blurb,
        "writable": bool(pspec.flags & GObject.ParamFlags.WRITABLE),
    }
    d["default"] = value_repr(pspec.default_value) if hasattr(pspec, "default_value") else None
    for attr in ("minimum", "maximum"):
        if hasattr(pspec, attr):
            d[attr] = value_repr(getattr(pspec, attr))
    return d


def describe_element(name):
    factory = Gst.ElementFactory.find(name)
    if factory is None:
        raise SystemExit(f"element {name} is not registered: build the plugin first")
    element = factory.create(None)
    d = {
        "long-name": factory.get_metadata("long-name"),
        "klass": factory.get_metadata("klass"),
        "description": factory.get_metadata("description"),
        "pad-templates": {},
        "properties": {},
    }
    for tmpl in factory.get_static_pad_templates():
        d["pad-templates"][tmpl.name_template] = {
            "direction": tmpl.direction.value_nick,
            "presence": tmpl.presence.value_nick,
            "caps": tmpl.get_caps().to_string(),
        }
    for pspec in element.list_properties():
        if pspec.owner_type == Gst.Object or pspec.name in SKIP_PROPS:
            continue
        if GObject.type_name(pspec.owner_type) in ("GstBaseSrc", "GstBaseTransform", "GstAggregator", "GstPushSrc", "GstBin"):
            continue
        d["properties"][pspec.name] = describe_property(pspec)
    return d


def plugin_elements():
    """Every element the neurotokens plugin registers, so a new one cannot be forgotten."""
    features = Gst.Registry.get().get_feature_list_by_plugin("neurotokens")
    names = sorted(f.get_name() for f in features if isinstance(f, Gst.ElementFactory))
    if not names:
        raise SystemExit("the neurotokens plugin is not found: is GST_PLUGIN_PATH set?")
    return names


def build_cache():
    Gst.init(None)
    return {name: describe_element(name) for name in plugin_elements()}


def check(cache_path, docs_dir):
    current = build_cache()
    problems = []
    for name, d in current.items():
        doc_path = os.path.join(docs_dir, f"{name}.md")
        doc = open(doc_path).read() if os.path.exists(doc_path) else ""
        if not doc:
            problems.append(f"{doc_path} is missing")
        for prop, p in d["properties"].items():
            if not p["blurb"] or p["blurb"] == prop:
                problems.append(f"{name}:{prop} has no blurb")
            if doc and f"`{prop}`" not in doc:
                problems.append(f"{doc_path} does not document property `{prop}`")
    stored = json.load(open(cache_path)) if os.path.exists(cache_path) else None
    if stored != current:
        problems.append(f"{cache_path} is stale: run tools/inspect_cache.py update {cache_path}")
    for p in problems:
        print(p)
    return 1 if problems else 0


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "update":
        with open(sys.argv[2], "w") as out:
            json.dump(build_cache(), out, indent=2, sort_keys=True)
            out.write("\n")
        return 0
    if len(sys.argv) >= 4 and sys.argv[1] == "check":
        return check(sys.argv[2], sys.argv[3])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
