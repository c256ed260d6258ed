#!/usr/bin/env python3
"""Writes the hand-made seed inputs of the fuzz targets into fuzz/corpus/.

Run from anywhere: python3 fuzz/make_seed_corpus.py. Seeds are small and
named for what they are: real pgoutput v1 messages and CopyData frames built
field by field (valid ones, and broken ones that hit each error path), and
rules files (valid ones, and one per parser error). Inputs that libFuzzer
found (found-<hash>) and regression inputs live beside them and are not
touched here.
"""
import pathlib
import struct

CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"


# ---- pgoutput --------------------------------------------------------------

def u8(v): return struct.pack(">B", v)
def i16(v): return struct.pack(">h", v)
def i32(v): return struct.pack(">i", v)
def u32(v): return struct.pack(">I", v)
def i64(v): return struct.pack(">q", v)
def cstr(s): return s.encode() + b"\0"
def text(s):
    b = s.encode() if isinstance(s, str) else s
    return b"t" + i32(len(b)) + b


def tuple_(*columns):
    """Columns: a str is text, None is null, ... is unchanged TOAST."""
    out = i16(len(columns))
    for c in columns:
        out += b"n" if c is None else b"u" if c is Ellipsis else text(c)
    return out


RELID = 16384
TS = 700000000000  # microseconds since 2000-01-01


def column(name, oid, key=False):
    return u8(1 if key else 0) + cstr(name) + u32(oid) + i32(-1)


MESSAGES = {
    "begin": b"B" + i64(0x16B374D848) + i64(TS) + u32(742),
    "commit": b"C" + u8(0) + i64(0x16B374D848) + i64(0x16B374D878) + i64(TS),
    "relation": b"R" + u32(RELID) + cstr("public") + cstr("todos") + b"d" + i16(3)
        + column("id", 23, True) + column("owner", 25) + column("title", 25),
    "relation_full_identity": b"R" + u32(RELID) + cstr("app") + cstr("lists") + b"f" + i16(2)
        + column("id", 20, True) + column("name", 25, True),
    "relation_pg_catalog": b"R" + u32(11) + cstr("") + cstr("pg_class") + b"n" + i16(0),
    "relation_index_identity": b"R" + u32(RELID) + cstr("public") + cstr("t") + b"i" + i16(1)
        + column("k", 25, True),
    "insert": b"I" + u32(RELID) + b"N" + tuple_("1", "alice", "buy milk"),
    "insert_nulls": b"I" + u32(RELID) + b"N" + tuple_("2", None, None),
    "insert_empty_text": b"I" + u32(RELID) + b"N" + tuple_("3", "", ""),
    "insert_utf8": b"I" + u32(RELID) + b"N" + tuple_("4", "zoë", "naïve \"quoted\"\n"),
    "insert_zero_columns": b"I" + u32(RELID) + b"N" + tuple_(),
    "update": b"U" + u32(RELID) + b"N" + tuple_("1", "alice", "buy bread"),
    "update_toast": b"U" + u32(RELID) + b"N" + tuple_("1", "bob", ...),
    "update_key_change": b"U" + u32(RELID) + b"K" + tuple_("1", None, None)
        + b"N" + tuple_("9", "alice", "moved"),
    "update_full_old": b"U" + u32(RELID) + b"O" + tuple_("1", "alice", "old")
        + b"N" + tuple_("1", "alice", "new"),
    "delete_key": b"D" + u32(RELID) + b"K" + tuple_("7", None, None),
    "delete_full_old": b"D" + u32(RELID) + b"O" + tuple_("7", "bob", "gone"),
    "truncate": b"T" + i32(2) + u8(1) + u32(RELID) + u32(16390),
    "truncate_none": b"T" + i32(0) + u8(0),
    "message_transactional": b"M" + u8(1) + i64(0x1000) + cstr("walsim") + i32(4) + b"ping",
    "message_plain": b"M" + u8(0) + i64(0x2000) + cstr("") + i32(0),
    "origin": b"O" + i64(0x3000) + cstr("upstream"),
    "type": b"Y" + u32(90001) + cstr("public") + cstr("mood"),
}

BROKEN_MESSAGES = {
    "bad_empty": b"",
    "bad_unknown_tag": b"Z" + i32(1),
    "bad_begin_truncated": MESSAGES["begin"][:-2],
    "bad_commit_trailing_bytes": MESSAGES["commit"] + b"\0",
    "bad_relation_unterminated_name": b"R" + u32(RELID) + cstr("public") + b"todos",
    "bad_relation_identity": b"R" + u32(RELID) + cstr("public") + cstr("t") + b"x" + i16(0),
    "bad_relation_negative_ncols": b"R" + u32(RELID) + cstr("public") + cstr("t") + b"d" + i16(-1),
    "bad_relation_huge_ncols": b"R" + u32(RELID) + cstr("public") + cstr("t") + b"d" + i16(32767)
        + column("id", 23, True),
    "bad_insert_marker": b"I" + u32(RELID) + b"K" + tuple_("1"),
    "bad_insert_negative_length": b"I" + u32(RELID) + b"N" + i16(1) + b"t" + i32(-5),
    "bad_insert_length_past_end": b"I" + u32(RELID) + b"N" + i16(1) + b"t" + i32(1 << 30) + b"abc",
    "bad_insert_huge_ncols": b"I" + u32(RELID) + b"N" + i16(30000) + b"n",
    "bad_insert_negative_ncols": b"I" + u32(RELID) + b"N" + i16(-3),
    "bad_insert_column_kind": b"I" + u32(RELID) + b"N" + i16(1) + b"q",
    "bad_insert_binary": b"I" + u32(RELID) + b"N" + i16(1) + b"b" + i32(4) + u32(7),
    "bad_update_no_new_tuple": b"U" + u32(RELID) + b"K" + tuple_("1", None, None),
    "bad_update_marker_after_old": b"U" + u32(RELID) + b"O" + tuple_("1") + b"K" + tuple_("2"),
    "bad_delete_marker": b"D" + u32(RELID) + b"N" + tuple_("7"),
    "bad_truncate_negative_count": b"T" + i32(-1) + u8(0),
    "bad_truncate_count_past_end": b"T" + i32(1000) + u8(0) + u32(RELID),
    "bad_message_unterminated_prefix": b"M" + u8(1) + i64(0x1000) + b"walsim",
    "bad_message_content_past_end": b"M" + u8(0) + i64(0x1000) + cstr("p") + i32(99) + b"x",
}


def xlog(payload, start=0x16B374D848):
    return b"w" + i64(start) + i64(start + 0x30) + i64(TS) + payload


FRAMES = {
    "frame_keepalive": b"k" + i64(0x16B374D878) + i64(TS) + u8(0),
    "frame_keepalive_reply": b"k" + i64(0x16B374D878) + i64(TS) + u8(1),
    "frame_xlog_begin": xlog(MESSAGES["begin"]),
    "frame_xlog_relation": xlog(MESSAGES["relation"]),
    "frame_xlog_insert": xlog(MESSAGES["insert"]),
    "frame_xlog_update_key_change": xlog(MESSAGES["update_key_change"]),
    "frame_xlog_delete": xlog(MESSAGES["delete_key"]),
    "frame_xlog_commit": xlog(MESSAGES["commit"]),
    "frame_xlog_empty_payload": xlog(b""),
    "bad_frame_unknown_tag": b"r" + i64(1) * 4 + u8(0),
    "bad_frame_keepalive_short": (b"k" + i64(1) + i64(TS))[:-1],
    "bad_frame_keepalive_trailing": b"k" + i64(1) + i64(TS) + u8(0) + b"!",
    "bad_frame_xlog_short_header": (b"w" + i64(1) + i64(2))[:-3],
    "bad_frame_xlog_bad_payload": xlog(BROKEN_MESSAGES["bad_insert_length_past_end"]),
}


# ---- bucket rules -----------------------------------------------------------

def rules(*definitions):
    out = "bucket_definitions:\n"
    for name, queries in definitions:
        out += f"  {name}:\n    data:\n" + "".join(f"      - {q}\n" for q in queries)
    return out


RULES = {
    "by_owner.yaml": rules(
        ("by_owner", ["SELECT id, title FROM todos WHERE owner = bucket.owner",
                      "SELECT * FROM lists WHERE owner_id = bucket.owner"]),
        ("everything", ["SELECT id, name AS label FROM lists"])),
    "two_parameters.yaml": rules(
        ("by_org_user", ["SELECT id FROM docs WHERE org = bucket.org AND user_id = bucket.user",
                         "SELECT id FROM notes WHERE bucket.user = author AND org = bucket.org"])),
    "filters.yaml": rules(
        ("open_tasks", ["SELECT id, title FROM tasks WHERE done = 'false' AND owner IS NOT NULL",
                        "SELECT id FROM drafts WHERE published_at IS NULL AND 'x' = kind"])),
    "quoted_names.yaml": rules(
        ("q", ['SELECT "Id", "select" AS "from" FROM public."Todo Items" WHERE "Owner" = bucket.o;'])),
    "lowercase_keywords.yaml": rules(
        ("lower", ["select id as key from items where owner = bucket.owner"])),
    "same_bucket_twice.yaml": rules(
        ("b", ["SELECT id FROM t WHERE a = bucket.p", "SELECT id FROM t WHERE c = bucket.p"])),
    "string_with_quote.yaml": rules(("s", ["SELECT id FROM t WHERE name = 'it''s'"])),
    "flow_style.yaml": '{bucket_definitions: {all: {data: ["SELECT * FROM t"]}}}\n',
    "comments_and_anchor.yaml": "# rules\nbucket_definitions:\n  a: &def\n    data:\n"
        "      - SELECT id FROM t  # trailing\n  b: *def\n",
    "block_scalar.yaml": "bucket_definitions:\n  a:\n    data:\n      - >\n        SELECT id\n"
        "        FROM t WHERE x = bucket.x\n",
    "crlf.yaml": rules(("c", ["SELECT id FROM t"])).replace("\n", "\r\n"),
    # Malformed rules, one per error the parser names.
    "bad_empty.yaml": "",
    "bad_scalar.yaml": "just a string\n",
    "bad_list.yaml": "- a\n- b\n",
    "bad_missing_definitions.yaml": "bucket_defs:\n  a:\n    data: []\n",
    "bad_unknown_top_key.yaml": rules(("a", ["SELECT id FROM t"])) + "extra: 1\n",
    "bad_empty_definitions.yaml": "bucket_definitions:\n",
    "bad_definitions_list.yaml": "bucket_definitions:\n  - a\n",
    "bad_definition_name.yaml": rules(("1st", ["SELECT id FROM t"])),
    "bad_definition_scalar.yaml": "bucket_definitions:\n  a: SELECT id FROM t\n",
    "bad_unknown_definition_key.yaml": "bucket_definitions:\n  a:\n    parameters: x\n"
        "    data:\n      - SELECT id FROM t\n",
    "bad_no_data.yaml": "bucket_definitions:\n  a:\n    other: 1\n",
    "bad_data_empty.yaml": "bucket_definitions:\n  a:\n    data: []\n",
    "bad_data_map.yaml": "bucket_definitions:\n  a:\n    data:\n      q: SELECT id FROM t\n",
    "bad_entry_list.yaml": "bucket_definitions:\n  a:\n    data:\n      - [SELECT, id]\n",
    "bad_duplicate_definition.yaml": "bucket_definitions:\n  a:\n    data:\n      - SELECT id FROM t\n"
        "  a:\n    data:\n      - SELECT id FROM u\n",
    "bad_unterminated_string.yaml": rules(("a", ["SELECT id FROM t WHERE x = 'open"])),
    "bad_empty_quoted_name.yaml": rules(("a", ['SELECT "" FROM t'])),
    "bad_order_by.yaml": rules(("a", ["SELECT id FROM t ORDER BY id"])),
    "bad_where_before_from.yaml": rules(("a", ["SELECT id WHERE x = 'y' FROM t"])),
    "bad_two_columns.yaml": rules(("a", ["SELECT id FROM t WHERE a = b"])),
    "bad_two_parameters.yaml": rules(("a", ["SELECT id FROM t WHERE bucket.a = bucket.b"])),
    "bad_bound_twice.yaml": rules(("a", ["SELECT id FROM t WHERE x = bucket.p AND y = bucket.p"])),
    "bad_unknown_parameter.yaml": rules(
        ("a", ["SELECT id FROM t WHERE x = bucket.owner", "SELECT id FROM u WHERE y = bucket.ownr"])),
    "bad_missing_parameter.yaml": rules(
        ("a", ["SELECT id FROM t WHERE x = bucket.p", "SELECT id FROM u"])),
    "bad_is_null_parameter.yaml": rules(("a", ["SELECT id FROM t WHERE bucket.p IS NULL"])),
    "bad_duplicate_output.yaml": rules(("a", ["SELECT id, name AS id FROM t"])),
    "bad_qualifier.yaml": rules(("a", ["SELECT id FROM t WHERE row.x = bucket.p"])),
    "bad_yaml_tab.yaml": "bucket_definitions:\n\ta:\n",
    "bad_yaml_unclosed.yaml": "bucket_definitions: {a: {data: [SELECT id FROM t}\n",
    "bad_yaml_deep_nesting.yaml": "bucket_definitions: " + "[" * 400 + "]" * 400 + "\n",
}


def write(directory, files):
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        data = content.encode() if isinstance(content, str) else content
        (directory / name).write_bytes(data)


def main():
    write(CORPUS / "pgoutput", {**{"msg_" + k: v for k, v in MESSAGES.items()},
                                **{"msg_" + k: v for k, v in BROKEN_MESSAGES.items()},
                                **FRAMES})
    write(CORPUS / "bucket_rules", RULES)


if __name__ == "__main__":
    main()
