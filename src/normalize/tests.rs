//! Unit tests of the normalizer: the profiles, the single pass against the rule-by-rule
//! reference (ASCII fast path, table, NFKC clusters, context rules), idempotence, `explain` and
//! the builder.

use proptest::prelude::*;

use super::*;

fn default() -> Normalizer {
    Normalizer::new(Profile::Default)
}

/// Rule sets the equivalence tests run under: the profiles, and single switches that change
/// how the pass behaves.
fn variants() -> Vec<Normalizer> {
    let mut v: Vec<Normalizer> = Profile::ALL.into_iter().map(Normalizer::new).collect();
    for (profile, id, on) in [
        (Profile::Default, "R12", false),
        (Profile::Default, "R1", false),
        (Profile::Default, "R1a", false),
        (Profile::Default, "R14", false),
        (Profile::Default, "R17", false),
        (Profile::Default, "R18", false),
        (Profile::Default, "R19", false),
        (Profile::Default, "R7", false),
        (Profile::Default, "R5", false),
        (Profile::Default, "R9b", false),
        (Profile::Light, "R9b", true),
        (Profile::Light, "R13", true),
        (Profile::Light, "R12", true),
        (Profile::None, "R1", true),
    ] {
        v.push(
            Normalizer::builder()
                .profile(profile)
                .rule(id, on)
                .build()
                .unwrap(),
        );
    }
    v
}

fn assert_same_as_reference(n: &Normalizer, text: &str) {
    assert_eq!(
        n.normalize(text),
        n.reference(text),
        "rules `{}`, input {:?} [{}]",
        n.spec(),
        text,
        text.chars()
            .map(|c| format!("{:04X}", c as u32))
            .collect::<Vec<_>>()
            .join(" ")
    );
}

#[test]
fn normalizer_is_send_sync_clone() {
    fn assert_traits<T: Send + Sync + Clone + 'static>() {}
    assert_traits::<Normalizer>();
}

#[test]
fn light_profile_is_lucene_arabic_normalizer() {
    let n = Normalizer::new(Profile::Light);
    for (input, want) in [
        ("أَحْمَدُ إبراهيم آمال", "احمد ابراهيم امال"),
        ("الـعـــربـيّة", "العربيه"),
        ("مصطفى إلى القاهرة", "مصطفي الي القاهره"),
        // Not in Lucene: wasla, dagger alef, hamza seats, Persian letters, digits,
        // presentation forms, format characters, case, punctuation.
        ("ٱلرحمٰن", "ٱلرحمٰن"),
        ("مسئول مسؤول", "مسئول مسؤول"),
        ("کورونا فی", "کورونا فی"),
        ("عام ٢٠٢٤", "عام ٢٠٢٤"),
        ("\u{FE8D}\u{FEDF}\u{FECC}", "\u{FE8D}\u{FEDF}\u{FECC}"),
        ("الحكو\u{200D}مة", "الحكو\u{200D}مه"),
        ("«BBC», iPhone!", "«BBC», iPhone!"),
        // Whitespace is collapsed and trimmed.
        ("  قال\t\n الرئيس  ", "قال الرئيس"),
    ] {
        assert_eq!(n.normalize(input), want, "input {input:?}");
    }
}

#[test]
fn none_profile_only_touches_whitespace() {
    let n = Normalizer::new(Profile::None);
    assert_eq!(
        n.normalize("  أَحْمَدُ\t\tBBC\u{00A0}\u{2003}x,y  \n"),
        "أَحْمَدُ BBC x,y"
    );
    assert_eq!(n.normalize(""), "");
    assert_eq!(n.normalize(" \t\n "), "");
    assert_eq!(n.normalize("\u{FEFB}\u{0640}"), "\u{FEFB}\u{0640}");
}

#[test]
fn default_profile_examples() {
    let n = default();
    for (input, want) in [
        ("", ""),
        ("   ", ""),
        ("بيئة شيئ شيء", "بءه شء شء"),
        ("يؤكد", "ءكد"),
        ("3.5 و3,5 و3. 5 و.5 و3..5", "3.5 و 3,5 و 3 5 و 5 و 3 5"),
        ("ال3.5م", "ال 3.5 م"),
        ("٣٬٥٠٠٫٧٥", "3,500.75"),
        ("e\u{0301}", "\u{00E9}"),
        ("و\u{0654}", "\u{0621}"),
        ("Straße İstanbul", "strasse i\u{0307}stanbul"),
        ("﴾قرآن﴿", "قران"),
    ] {
        assert_eq!(n.normalize(input), want, "input {input:?}");
    }
}

#[test]
fn letters_for_sounds_arabic_lacks_fold_to_arabic_letters() {
    let n = default();
    for (input, want) in [
        ("ڤيديو", "فيديو"),
        ("ڥيديو", "فيديو"),
        ("پاريس", "باريس"),
        ("گوگل ڭ", "كوكل ك"),
        ("ڨالمة", "قالمه"),
        ("چاي", "جاي"),
        ("ژاك", "زاك"),
        ("ٹ ڈ ڑ ں", "ت د ر ن"),
        ("ۆ ۇ ۋ", "و و و"),
        ("ێ", "ي"),
        // A yeh from ێ before a hamza goes the way of any yeh (R12).
        ("شێء", "شء"),
        // Presentation forms reach the same letters through NFKC.
        ("\u{FB56}\u{FB6A}", "بف"),
    ] {
        assert_eq!(n.normalize(input), want, "input {input:?}");
        assert_eq!(n.normalize(input), n.reference(input), "input {input:?}");
    }
    assert_eq!(n.normalize("ڤيديو"), n.normalize("فيديو"));
    // Lucene's normalizer keeps them, and so does the light profile; R9b switches them on.
    let light = Normalizer::new(Profile::Light);
    assert_eq!(light.normalize("ڤيديو پاريس"), "ڤيديو پاريس");
    let folded = Normalizer::builder()
        .profile(Profile::Light)
        .rule("R9b", true)
        .build()
        .unwrap();
    assert_eq!(folded.normalize("ڤيديو پاريس"), "فيديو باريس");
    let kept = Normalizer::builder().rule("R9b", false).build().unwrap();
    assert_eq!(kept.normalize("ڤيديو"), "ڤيديو");
}

#[test]
fn explain_shows_marks_as_characters() {
    let changes = default().explain("ناصَرَ");
    let r5 = changes
        .iter()
        .find(|c| c.rule == "R5")
        .expect("R5 reported");
    assert_eq!(
        r5.to_string(),
        "R5 harakat deleted: \"\u{25CC}\u{064E}\" → \"\""
    );
    assert_eq!(visible("ناصَرَ"), "ناصَرَ");
    assert_eq!(visible("a\u{200D}b\tc"), "a⟨U+200D⟩b⟨U+0009⟩c");
    assert_eq!(visible(" \u{0651}"), " \u{25CC}\u{0651}");
}

#[test]
fn normalize_into_reuses_and_clears_the_buffer() {
    let n = default();
    let mut out = String::from("left over");
    n.normalize_into("أ", &mut out);
    assert_eq!(out, "ا");
    n.normalize_into("", &mut out);
    assert_eq!(out, "");
}

#[test]
fn explain_reports_r6_for_hamza_on_alef() {
    let changes = default().explain("أحمد");
    let r6 = changes
        .iter()
        .find(|c| c.rule == "R6")
        .expect("R6 reported");
    assert_eq!((r6.from.as_str(), r6.to.as_str()), ("أ", "ا"));
    assert_eq!(
        r6.to_string(),
        "R6 alef variants → bare alef: \"أ\" → \"ا\""
    );
}

#[test]
fn explain_names_rules_in_order_once_each() {
    let n = default();
    let changes = n.explain("\u{0627}\u{0654}\u{062D}\u{0645}\u{062F} \u{200F}أحمد");
    let seen: Vec<_> = changes
        .iter()
        .map(|c| (c.rule, c.from.as_str(), c.to.as_str()))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("R1", "\u{0627}\u{0654}", "\u{0623}"),
            ("R2", "\u{200F}", ""),
            ("R6", "\u{0623}", "\u{0627}"),
        ]
    );
    assert_eq!(
        changes[1].to_string(),
        "R2 format and bidi controls (Cf) deleted: \"⟨U+200F⟩\" → \"\""
    );
}

#[test]
fn explain_of_unchanged_text_is_empty() {
    assert!(default().explain("قال الوزير 2024").is_empty());
}

#[test]
fn builder_switches_rules() {
    let n = Normalizer::builder().rule("R12", false).build().unwrap();
    assert_eq!(n.profile(), Profile::Default);
    assert_eq!(n.spec(), "default -R12");
    assert_eq!(n.normalize("مسئول"), "مسئول");
    assert!(n.rules().iter().all(|r| r.id != "R12"));

    let light = Normalizer::builder()
        .profile(Profile::Light)
        .rule("R13", true)
        .build()
        .unwrap();
    assert_eq!(light.spec(), "light +R13");
    assert_eq!(light.normalize("عام ٢٠٢٤"), "عام 2024");
    let ids: Vec<_> = light.rules().iter().map(|r| r.id).collect();
    assert_eq!(ids, ["R4", "R5", "R6", "R7", "R11", "R13", "R3"]);

    // The last switch of a rule wins.
    let n = Normalizer::builder()
        .rule("R12", false)
        .rule("R12", true)
        .build()
        .unwrap();
    assert_eq!(n.spec(), "default");
    assert_eq!(Normalizer::new(Profile::Light).spec(), "light");
    let light = Normalizer::builder()
        .profile(Profile::Light)
        .rule("R6", false)
        .rule("R6", true)
        .build()
        .unwrap();
    assert_eq!(light.spec(), "light");
    assert_eq!(light.normalize("ٱلرحمن"), "ٱلرحمن");
}

#[test]
fn builder_rejects_unknown_rules_and_r3_off() {
    let err = Normalizer::builder()
        .rule("R99", false)
        .build()
        .unwrap_err();
    assert!(err.contains("R99") && err.contains("R12"), "{err}");
    let err = Normalizer::builder().rule("R3", false).build().unwrap_err();
    assert!(err.contains("R3"), "{err}");
    assert!(Normalizer::builder().rule("R3", true).build().is_ok());
}

#[test]
fn profile_names_round_trip() {
    for p in Profile::ALL {
        assert_eq!(p.name().parse::<Profile>(), Ok(p));
        assert_eq!(p.to_string(), p.name());
    }
    assert!("heavy".parse::<Profile>().unwrap_err().contains("heavy"));
}

#[test]
fn every_ascii_pair_matches_the_reference() {
    // The ASCII fast path byte by byte, with every left and right neighbour (digit separators,
    // script boundaries, whitespace).
    let n = default();
    for a in 0u8..128 {
        for b in 0u8..128 {
            let s = format!("1{}{}ب", char::from(a), char::from(b));
            assert_same_as_reference(&n, &s);
        }
    }
}

#[test]
fn every_ascii_byte_matches_the_reference_under_every_variant() {
    for n in variants() {
        for a in 0u8..128 {
            let a = char::from(a);
            for s in [
                a.to_string(),
                format!("1{a}2"),
                format!("ب{a}ب"),
                format!("x{a}Y"),
            ] {
                assert_same_as_reference(&n, &s);
            }
        }
    }
}

#[test]
fn every_bmp_code_point_matches_the_reference() {
    // Alone, and between neighbours that exercise composition (a preceding base letter, a
    // following hamza above), R12 (yeh before, hamza after), R14 and R19, and the pass's run
    // of Arabic letters (which `بب` starts). Every code point alone; in context, the blocks
    // that matter for Arabic text and a sample of the rest.
    let n = default();
    for cp in 0..0x1_0000u32 {
        let Some(c) = char::from_u32(cp) else {
            continue;
        };
        assert_same_as_reference(&n, &c.to_string());
        let arabic_or_general = cp < 0x0900
            || (0x2000..0x2070).contains(&cp)
            || (0xFB00..0xFF00).contains(&cp)
            || cp % 8 == 0;
        if !arabic_or_general {
            continue;
        }
        assert_same_as_reference(
            &n,
            &format!("ي{c}\u{0654}ء a{c}1 بب{c}ب بي{c}ء ب ي{c} بب {c}\u{064E} ببة{c}ة 1{c}2"),
        );
    }
}

/// Characters of Arabic news and of its encoding noise, with the R12 letters over-weighted.
fn arabic_mix() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => prop::char::range('\u{0621}', '\u{064A}'),
        3 => prop::sample::select(vec![
            '\u{064A}', '\u{0649}', '\u{0621}', '\u{0624}', '\u{0626}', '\u{0627}', '\u{0648}',
        ]),
        2 => prop::char::range('\u{064B}', '\u{065F}'),
        1 => prop::sample::select(vec![
            '\u{0640}', '\u{0670}', '\u{0671}', '\u{0672}', '\u{0673}', '\u{0674}', '\u{0675}',
            '\u{0678}', '\u{06DD}', '\u{06DE}', '\u{06E5}', '\u{06E9}', '\u{08E2}', '\u{08F0}',
        ]),
        1 => prop::char::range('\u{0610}', '\u{061A}'),
        1 => prop::char::range('\u{06D6}', '\u{06ED}'),
        // Persian, Urdu, Kurdish, Turkic and Maghrebi letters.
        1 => prop::sample::select(vec![
            '\u{067E}', '\u{0686}', '\u{0698}', '\u{06A4}', '\u{06A9}', '\u{06AF}', '\u{06BE}',
            '\u{06C0}', '\u{06C1}', '\u{06C2}', '\u{06C3}', '\u{06CC}', '\u{06D0}', '\u{06D2}',
            '\u{06D3}', '\u{06D5}', '\u{0620}', '\u{063D}', '\u{0679}', '\u{0688}', '\u{0691}',
            '\u{06A5}', '\u{06A8}', '\u{06AD}', '\u{06BA}', '\u{06C6}', '\u{06C7}', '\u{06CB}',
            '\u{06CE}',
        ]),
        // Presentation forms and ligatures.
        1 => prop::char::range('\u{FB50}', '\u{FDFF}'),
        2 => prop::char::range('\u{FE70}', '\u{FEFC}'),
        // Digits.
        2 => prop::char::range('0', '9'),
        1 => prop::char::range('\u{0660}', '\u{0669}'),
        1 => prop::char::range('\u{06F0}', '\u{06F9}'),
        // Punctuation and symbols.
        2 => prop::sample::select(vec![
            '.', ',', '.', ',', ':', ';', '!', '?', '-', '(', ')', '"', '\'', '%', '/', '@',
            '\u{060C}', '\u{061B}', '\u{061F}', '\u{066A}', '\u{066B}', '\u{066C}', '\u{066D}',
            '\u{06D4}', '\u{060D}', '\u{061E}', '\u{00AB}', '\u{00BB}', '\u{201C}', '\u{201D}',
            '\u{2026}', '\u{FDFC}', '\u{FDFD}', '\u{FDFA}', '\u{FD3E}',
        ]),
        // Latin, including Latin-1 letters and full-width forms.
        2 => prop::char::range('a', 'z'),
        1 => prop::char::range('A', 'Z'),
        1 => prop::char::range('\u{00C0}', '\u{00FF}'),
        1 => prop::char::range('\u{FF01}', '\u{FF5E}'),
        // Whitespace and invisible characters.
        3 => prop::sample::select(vec![
            ' ', ' ', '\n', '\t', '\u{00A0}', '\u{202F}', '\u{2009}', '\u{3000}', '\u{2028}',
        ]),
        1 => prop::sample::select(vec![
            '\u{200B}', '\u{200C}', '\u{200D}', '\u{200E}', '\u{200F}', '\u{061C}', '\u{202B}',
            '\u{202C}', '\u{2067}', '\u{2069}', '\u{FEFF}', '\u{00AD}', '\u{2060}',
        ]),
    ]
}

fn arabic_text() -> impl Strategy<Value = String> {
    prop::collection::vec(arabic_mix(), 0..48).prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn single_pass_matches_reference_on_arabic_text(text in arabic_text()) {
        for n in variants() {
            prop_assert_eq!(n.normalize(&text), n.reference(&text), "rules `{}`", n.spec());
        }
    }

    #[test]
    fn single_pass_matches_reference_on_any_string(text in any::<String>()) {
        for n in variants() {
            prop_assert_eq!(n.normalize(&text), n.reference(&text), "rules `{}`", n.spec());
        }
    }

    #[test]
    fn ascii_fast_path_matches_reference(text in "[\\x00-\\x7F]{0,40}") {
        for n in variants() {
            prop_assert_eq!(n.normalize(&text), n.reference(&text), "rules `{}`", n.spec());
        }
    }

    #[test]
    fn normalizing_twice_changes_nothing(text in arabic_text()) {
        // Non-Arabic combining marks are left out of the mix on purpose: a Latin letter and
        // its accent separated by a deleted character (e + ZWJ + U+0301) only compose on a
        // second pass, because NFKC runs before deletion.
        for p in Profile::ALL {
            let n = Normalizer::new(p);
            let once = n.normalize(&text);
            prop_assert_eq!(n.normalize(&once), once.clone(), "profile {}", p);
        }
    }

    #[test]
    fn output_is_words_separated_by_single_spaces(text in any::<String>()) {
        for p in Profile::ALL {
            let out = Normalizer::new(p).normalize(&text);
            prop_assert!(!out.starts_with(' ') && !out.ends_with(' '));
            prop_assert!(!out.contains("  "));
            prop_assert!(out.chars().all(|c| c == ' ' || !c.is_whitespace()));
        }
    }

    #[test]
    fn explain_does_not_panic(text in arabic_text()) {
        let _ = default().explain(&text);
    }
}

#[test]
fn debug_output_names_rules_not_the_table() {
    let text = format!("{:?}", Normalizer::new(Profile::Light));
    assert!(text.contains("R11") && text.len() < 300, "{text}");
}

/// Speed on the SaudiNewsNet dev corpus (23,268 news articles, title and text):
/// `cargo test --release --lib throughput -- --ignored --nocapture`.
#[test]
#[ignore = "measures speed; run in release mode"]
#[allow(clippy::print_stderr)]
fn throughput_on_news_corpus() {
    use std::io::BufRead;
    use std::time::Instant;

    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpus/saudinewsnet-dev.jsonl.gz"
    );
    let Ok(file) = std::fs::File::open(path) else {
        eprintln!("{path} not found: nothing measured");
        return;
    };
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(file));
    let docs: Vec<String> = reader
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
            let field = |name: &str| v[name].as_str().unwrap_or("").to_string();
            format!("{}\n{}", field("title"), field("text"))
        })
        .collect();
    let bytes: usize = docs.iter().map(String::len).sum();
    eprintln!("{} documents, {:.1} MB", docs.len(), bytes as f64 / 1e6);
    for profile in Profile::ALL {
        let start = Instant::now();
        let n = Normalizer::new(profile);
        let build = start.elapsed();
        let mut out = String::new();
        let mut best = f64::INFINITY;
        for _ in 0..5 {
            let start = Instant::now();
            for doc in &docs {
                n.normalize_into(doc, &mut out);
                std::hint::black_box(&out);
            }
            best = best.min(start.elapsed().as_secs_f64());
        }
        eprintln!(
            "{:>7}: {:.0} MB/s (best of 5: {best:.3} s), table built in {:.1} ms",
            profile.name(),
            bytes as f64 / 1e6 / best,
            build.as_secs_f64() * 1e3
        );
    }
}
