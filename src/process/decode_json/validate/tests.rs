use super::*;

fn outcome(text: &str) -> &'static str {
    match validate(text) {
        Validation::Valid => "valid",
        Validation::DuplicateKey => "duplicate",
        Validation::Invalid(_) => "invalid",
    }
}

#[test]
fn accepts_exactly_one_value() {
    assert_eq!(
        outcome(r#"{"a":[1,-2.5e3,true,null,"x\n"],"b":{}}"#),
        "valid"
    );
    assert_eq!(outcome(" [] "), "valid");
    assert_eq!(outcome("{} {}"), "invalid");
    assert_eq!(outcome(r#"{"a":"#), "invalid");
    assert_eq!(outcome(r#"{"a":1,}"#), "invalid");
    assert_eq!(outcome(""), "invalid");
}

#[test]
fn is_as_strict_as_the_tree_parser() {
    for text in [
        r#"["\ud800"]"#,
        "[\"\u{1}\"]",
        "[1e400]",
        r#"["\x"]"#,
        "[01]",
    ] {
        assert!(serde_json::from_str::<serde_json::Value>(text).is_err());
        assert_eq!(outcome(text), "invalid", "{text}");
    }
}

#[test]
fn digits_are_counted_as_one_byte_at_a_time_would() {
    let bytewise = |bytes: &[u8]| bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    for len in 0..=17 {
        let plain: Vec<u8> = (0..len).map(|i| b'0' + (i * 7 % 10) as u8).collect();
        assert_eq!(digits(&plain), len);
        for at in 0..len {
            for b in 0..=u8::MAX {
                let mut bytes = plain.clone();
                bytes[at] = b;
                assert_eq!(digits(&bytes), bytewise(&bytes), "{bytes:?}");
            }
        }
    }
}

#[test]
fn finds_duplicate_keys_at_any_depth_and_through_escapes() {
    assert_eq!(outcome(r#"{"a":1,"a":2}"#), "duplicate");
    assert_eq!(outcome(r#"{"a":1,"\u0061":2}"#), "duplicate");
    assert_eq!(outcome(r#"[{"x":{"b":1,"b":2}}]"#), "duplicate");
    // The same key in sibling or nested objects is not a duplicate.
    assert_eq!(outcome(r#"{"a":{"a":{"a":1}},"b":{"a":2}}"#), "valid");
    assert_eq!(outcome(r#"[{"a":1},{"a":1}]"#), "valid");
}

#[test]
fn large_objects_switch_to_a_set() {
    let keys: Vec<String> = (0..100)
        .map(|i| format!("\"k{i}\":{{\"k{i}\":1}}"))
        .collect();
    let object = format!("{{{}}}", keys.join(","));
    assert_eq!(outcome(&object), "valid");
    let duplicated = format!("{{{},\"k7\":0}}", keys.join(","));
    assert_eq!(outcome(&duplicated), "duplicate");
}

#[test]
fn the_walk_notes_levels_and_ids_as_the_tree_reading_does() {
    let text = r#"{"msg":"x","lvl":"ERROR","nested":{"level":"info"},"list":[{"trace_id":"no"}],
        "trace":{"id":"t-1"},"span.id":"s-1","dd":{"span_id":7},"log":{"level":"debug"}}"#;
    let mut walked = Probe::default();
    assert!(matches!(
        validate_probing(text, &mut walked),
        Validation::Valid
    ));
    let mut tree = Probe::default();
    tree.tree(&serde_json::from_str(text).unwrap());
    assert_eq!(walked, tree);
    assert_eq!(walked.level.as_ref().map(|l| l.as_str()), Some("debug"));
    assert_eq!(walked.ids.trace_id.as_deref(), Some("t-1"));
    assert_eq!(walked.ids.span_id.as_deref(), Some("s-1"));
}

#[test]
fn short_keys_do_not_collide() {
    let keys = ["", "a", "a\0", "ab", "abcdefgh", "abcdefghi", "b", "ba"];
    let mut hashes: Vec<u64> = keys.iter().map(|k| key_hash(k)).collect();
    hashes.sort_unstable();
    hashes.dedup();
    assert_eq!(hashes.len(), keys.len());
}

#[test]
fn every_byte_of_a_key_counts_in_its_hash() {
    // Words may overlap; none may leave a byte out.
    for len in 1..=40 {
        let key: String = (0..len)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        for at in 0..len {
            let mut other = key.clone().into_bytes();
            other[at] = b'_';
            let other = String::from_utf8(other).unwrap();
            assert_ne!(key_hash(&key), key_hash(&other), "{key:?} and {other:?}");
        }
    }
}

#[test]
fn nesting_stops_where_serde_jsons_recursion_limit_does() {
    for depth in [126, 127, 128, 129] {
        let text = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let tree = serde_json::from_str::<serde_json::Value>(&text).is_ok();
        assert_eq!(outcome(&text) == "valid", tree, "depth {depth}");
    }
    for depth in [127, 128] {
        let object = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
        let tree = serde_json::from_str::<serde_json::Value>(&object).is_ok();
        assert_eq!(outcome(&object) == "valid", tree, "depth {depth}");
        assert_eq!(tree, depth == 127);
    }
}

#[test]
fn escapes_and_surrogates_as_serde_json_reads_them() {
    let mut probe = Probe::default();
    let text = r#"{"le\u0076el":"w\u0041RN","trace_id":"\ud83d\ude00\/\"\\\b\f\n\r\t"}"#;
    assert!(matches!(
        validate_probing(text, &mut probe),
        Validation::Valid
    ));
    let mut tree = Probe::default();
    tree.tree(&serde_json::from_str(text).unwrap());
    assert_eq!(probe, tree);
    assert!(probe.level.is_some() && probe.ids.trace_id.is_some());
    for text in [
        r#"["\ud83d"]"#,
        r#"["\ud83d\u0041"]"#,
        r#"["\ude00"]"#,
        r#"["\ud83dx"]"#,
        r#"["\u12"]"#,
        r#"["\u12g4"]"#,
        "[\"\\",
        "[\"abc",
    ] {
        assert_eq!(outcome(text), "invalid", "{text}");
    }
}

#[test]
fn numbers_as_serde_json_reads_them() {
    for text in [
        "[0]",
        "[-0]",
        "[1.5]",
        "[1e5]",
        "[1E+5]",
        "[1e-400]",
        "[0e999999999999]",
        "[18446744073709551616]",
        "[-9223372036854775809]",
        "[1e308]",
    ] {
        assert_eq!(outcome(text), "valid", "{text}");
    }
    let long = format!("[{}]", "9".repeat(400));
    for text in [
        "[01]",
        "[-]",
        "[1.]",
        "[.5]",
        "[1e]",
        "[1e+]",
        "[+1]",
        "[1e400]",
        "[-1e400]",
        "[2e308]",
        long.as_str(),
    ] {
        assert_eq!(outcome(text), "invalid", "{text}");
    }
}

#[test]
fn invalid_text_carries_serde_jsons_message() {
    let Validation::Invalid(err) = validate(r#"{"a":1,}"#) else {
        panic!("a trailing comma is invalid");
    };
    let tree = serde_json::from_str::<serde_json::Value>(r#"{"a":1,}"#).unwrap_err();
    assert_eq!(err.to_string(), tree.to_string());
}

#[test]
fn plain_len_stops_at_the_first_byte_that_needs_attention() {
    // Every position of a 16-byte block, of the eight-byte words after it, and of the bytes after
    // those; and bytes next to the flagged ones (0x20, 0x7f, 0x80 and up) that must not be flagged.
    for stop in [b'"', b'\\', 0, 0x1f] {
        for len in [1, 7, 8, 15, 16, 17, 24, 31, 32, 45] {
            for at in 0..len {
                for filler in [b'a', b' ', 0x7f, 0x80, 0xff] {
                    let mut bytes = vec![filler; len];
                    bytes[at] = stop;
                    // A byte that needs attention later in the same block must not hide the first.
                    bytes[(at + 1).min(len - 1)] = b'"';
                    assert_eq!(string::plain_len(&bytes), at, "{stop:#x} at {at} of {len}");
                }
            }
            assert_eq!(string::plain_len(&vec![b'a'; len]), len);
        }
    }
    assert_eq!(
        string::plain_len("é€ \u{7f}x".as_bytes()),
        "é€ \u{7f}x".len()
    );
}

mod properties {
    use proptest::prelude::*;
    use serde_json::Value;

    use super::super::*;

    /// Keys `log_context` reads, some written with escapes, and others.
    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "level",
                "lvl",
                "severity",
                "log",
                "log.level",
                "trace",
                "id",
                "trace_id",
                "span_id",
                "traceparent",
                "dd",
                "le\\u0076el",
                "x",
                "a",
                "\\u00e9",
                "",
            ])
            .prop_map(String::from),
            "[a-z\\\\\"]{0,3}",
        ]
    }

    /// JSON-like text with the scanner's edge cases: escapes, surrogates, numbers, whitespace.
    fn text() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            prop::sample::select(vec![
                "null",
                "true",
                "false",
                "tru",
                "0",
                "-0",
                "01",
                "1.5",
                "1e400",
                "1e-400",
                "-",
                "18446744073709551615",
                "18446744073709551616",
                "42",
                "1.",
                "2E+3",
                "\"INFO\"",
                "\"warn\"",
                "\"x\\u0041\"",
                "\"\\ud83d\\ude00\"",
                "\"\\ud83d\"",
                "\"\\ude00\"",
                "\"\\q\"",
                "\"tab\there\"",
                "\"é😀\\\"\\\\\"",
                "\"\\u00\"",
                "\"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\"",
            ])
            .prop_map(String::from),
            "\"[a-z é\\\\\"]{0,12}\"",
        ];
        leaf.prop_recursive(4, 40, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                prop::collection::vec((key(), inner, "[ \n]{0,1}"), 0..5).prop_map(|members| {
                    let members: Vec<String> = members
                        .into_iter()
                        .map(|(k, v, space)| format!("\"{k}\"{space}:{v}"))
                        .collect();
                    format!("{{{}}}", members.join(","))
                }),
            ]
        })
    }

    fn check(text: &str) -> Result<(), TestCaseError> {
        let mut probe = Probe::default();
        let scanned = validate_probing(text, &mut probe);
        let tree = serde_json::from_str::<Value>(text);
        match (scanned, tree) {
            (Validation::Valid, Ok(value)) => {
                let mut read = Probe::default();
                read.tree(&value);
                prop_assert_eq!(probe, read, "{}", text);
            }
            (Validation::Invalid(err), Err(tree)) => {
                prop_assert_eq!(err.to_string(), tree.to_string())
            }
            // Either way the tree path decides.
            (Validation::DuplicateKey, _) => {}
            (Validation::Valid, Err(err)) => prop_assert!(false, "{text:?} passed: {err}"),
            (Validation::Invalid(err), Ok(_)) => prop_assert!(false, "{text:?} refused: {err}"),
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn agrees_with_serde_json_on_json_like_text(text in text()) {
            check(&text)?;
        }

        #[test]
        fn agrees_with_serde_json_when_a_byte_is_cut_or_added(
            text in text(),
            at in any::<prop::sample::Index>(),
            noise in "[\\[\\]{}\":,\\\\ 0-9eE.+u-]{0,1}",
        ) {
            let mut cut = at.index(text.len() + 1);
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            let mut changed = text.clone();
            if noise.is_empty() && cut < text.len() {
                changed.remove(cut);
            } else {
                changed.insert_str(cut, &noise);
            }
            check(&changed)?;
        }

        #[test]
        fn agrees_with_serde_json_on_any_text(text in any::<String>()) {
            check(&text)?;
        }
    }
}
