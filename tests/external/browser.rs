//! The HTML report in a real browser: headless Chromium (Debian's `chromium` package) opens
//! reports that the `mukarrar` binary writes, and the tests drive them as a reader would.
//!
//! The driver is a small DevTools-protocol client over Chromium's `--remote-debugging-pipe`
//! (cdp.rs): std and serde_json only, nothing to download, no port to open.
//!
//! Without Chromium they are skipped, or fail where it is required (see main.rs);
//! `MUKARRAR_CHROMIUM` names another binary.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::cdp::Browser;
use crate::{Need, Test};
use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

/// One browser at a time: they are heavy, and the machine may be small.
static ONE_BROWSER: Mutex<()> = Mutex::new(());

const WIDTH: u32 = 1280;
const HEIGHT: u32 = 900;

/// Runs `test` with a browser (the runner has checked that there is one).
fn with_browser(test: impl FnOnce(&mut Browser)) {
    let chromium = crate::chromium().unwrap_or_else(|why| panic!("{why}"));
    let _one = ONE_BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let mut browser = Browser::launch(&chromium, WIDTH, HEIGHT);
    test(&mut browser);
}

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(name)
}

/// Runs `mukarrar ARGS` and returns the path of the page it wrote to `dir/name`.
fn report(dir: &TempDir, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.path().join(name);
    Command::cargo_bin("mukarrar")
        .unwrap()
        .args(args)
        .arg("-o")
        .arg(&out)
        .arg("-q")
        .assert()
        .success();
    out
}

fn count(b: &mut Browser, selector: &str) -> u64 {
    b.eval(&format!("document.querySelectorAll({selector:?}).length"))
        .as_u64()
        .unwrap()
}

fn no_errors_and_no_requests_but_the_page(b: &Browser, page: &Path) {
    assert!(b.errors.is_empty(), "errors in the page: {:#?}", b.errors);
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let others: Vec<&String> = b.requests.iter().filter(|r| **r != url).collect();
    assert!(others.is_empty(), "requests besides the page: {others:?}");
}

fn the_headlines_report_loads_with_no_errors_and_no_requests() {
    let dir = TempDir::new().unwrap();
    let page = report(
        &dir,
        "headlines.html",
        &["cluster", sample("headlines.jsonl").to_str().unwrap()],
    );
    with_browser(|b| {
        b.open(&page);
        assert_eq!(b.eval("document.documentElement.lang"), "ar");
        assert_eq!(b.eval("document.documentElement.dir"), "rtl");
        assert_eq!(b.eval("getComputedStyle(document.body).direction"), "rtl");
        // Two clusters in the seed headlines, both rows rendered, both closed.
        assert_eq!(count(b, "details.g"), 2);
        assert_eq!(count(b, "details.g[open]"), 0);
        // The seed headlines are short texts: one S-curve, the short-text rule's.
        assert_eq!(count(b, "svg#s-curve-short path.curve"), 1);
        assert_eq!(count(b, "svg#s-curve-long"), 0);
        assert_eq!(count(b, "svg#histogram rect.bar"), 5);
        // Clusters first: the counts, the search box and the first cluster are all on the
        // first screen; parameters and charts wait, collapsed, below the counts.
        let bottom = |b: &mut Browser, selector: &str| {
            b.eval(&format!(
                "document.querySelector({selector:?}).getBoundingClientRect().bottom"
            ))
            .as_f64()
            .unwrap()
        };
        assert!(bottom(b, ".summary") < bottom(b, "#q"));
        let first = bottom(b, "details.g");
        assert!(
            first <= f64::from(HEIGHT),
            "first cluster ends at {first}px"
        );
        assert_eq!(b.eval("document.getElementById('about').open"), false);
        assert_eq!(
            b.eval("document.querySelector('svg.s-curve').checkVisibility()"),
            false,
            "charts hidden until opened"
        );
        // Opened, no text of a chart touches the dashed threshold line.
        b.eval("document.getElementById('about').open = true");
        let crossing = b.eval(
            "[...document.querySelectorAll('svg.s-curve')].flatMap(svg => { \
             const l = svg.querySelector('line.thr').getBoundingClientRect(); \
             return [...svg.querySelectorAll('text')].filter(t => { \
             const r = t.getBoundingClientRect(); \
             return r.left < l.right && l.left < r.right && r.top < l.bottom && l.top < r.bottom; \
             }).map(t => t.textContent); })",
        );
        assert_eq!(crossing, serde_json::json!([]));
        assert_eq!(
            b.eval("document.querySelector('svg.s-curve').checkVisibility()"),
            true
        );
        // The ids are isolated from the right-to-left text around them.
        assert_eq!(
            b.eval("getComputedStyle(document.querySelector('summary bdi.id')).unicodeBidi"),
            "isolate"
        );
        no_errors_and_no_requests_but_the_page(b, &page);
    });
}

fn the_search_box_filters_clusters_by_text_and_by_id() {
    let dir = TempDir::new().unwrap();
    let page = report(
        &dir,
        "headlines.html",
        &["cluster", sample("headlines.jsonl").to_str().unwrap()],
    );
    with_browser(|b| {
        b.open(&page);
        // "/" focuses the search box.
        b.press("/");
        assert_eq!(b.eval("document.activeElement.id"), "q");
        // A word of one member (not of its representative) keeps only that cluster.
        b.type_text("جوتيريش");
        b.wait_for("document.getElementById('list').dataset.query === 'جوتيريش'");
        assert_eq!(count(b, "details.g"), 1);
        assert_eq!(
            b.eval("document.querySelector('details.g bdi.id').textContent"),
            "seed-similar-01"
        );
        assert_eq!(
            b.eval("document.getElementById('count').textContent"),
            "1 / 2"
        );
        // By document id, in any case.
        b.eval("(() => { const q = document.getElementById('q'); q.value = ''; q.focus(); })()");
        b.type_text("SEED-readalso");
        b.wait_for("document.getElementById('list').dataset.query === 'seed-readalso'");
        assert_eq!(count(b, "details.g"), 1);
        assert_eq!(
            b.eval("document.querySelector('details.g bdi.id').textContent"),
            "seed-readalso"
        );
        // Nothing matches.
        b.type_text("zzz");
        b.wait_for("document.getElementById('list').dataset.query === 'seed-readalsozzz'");
        assert_eq!(count(b, "details.g"), 0);
        assert_eq!(count(b, ".empty"), 1);
        // Cleared: everything is back.
        b.eval("(() => { const q = document.getElementById('q'); q.value = ''; q.dispatchEvent(new Event('input')); })()");
        b.wait_for("document.getElementById('list').dataset.query === ''");
        assert_eq!(count(b, "details.g"), 2);
        no_errors_and_no_requests_but_the_page(b, &page);
    });
}

fn a_cluster_opens_from_the_keyboard_with_its_differences_marked() {
    let dir = TempDir::new().unwrap();
    let page = report(
        &dir,
        "headlines.html",
        &["cluster", sample("headlines.jsonl").to_str().unwrap()],
    );
    with_browser(|b| {
        b.open(&page);
        // j, j: the second cluster (seed-similar-01 / -02); Enter opens it.
        b.press("j");
        b.press("j");
        assert_eq!(
            b.eval("document.activeElement.parentNode.querySelector('bdi.id').textContent"),
            "seed-similar-01"
        );
        b.press("Enter");
        b.wait_for("document.querySelectorAll('details.g[open] .pair').length === 1");
        // The representative and the member side by side, with the changed words marked.
        let marks = |b: &mut Browser, side: &str| -> Value {
            b.eval(&format!(
                "[...document.querySelectorAll('details.g[open] .{side} mark')].map(m => m.textContent)"
            ))
        };
        assert_eq!(marks(b, "rep"), serde_json::json!(["الأمم المتحدة تحثّ"]));
        assert_eq!(marks(b, "mem"), serde_json::json!(["جوتيريش يحثّ"]));
        assert_eq!(
            b.eval("document.querySelector('details.g[open] .pair .sim bdi').textContent"),
            "0.583"
        );
        // The original text, with its shadda; "n" shows the normalized form instead.
        let member_text = "document.querySelector('details.g[open] .mem .txt').textContent";
        assert_eq!(
            b.eval(member_text),
            "جوتيريش يحثّ قادة العالم على بذل الجهود لحل الدولتين"
        );
        b.press("n");
        assert_eq!(b.eval("document.getElementById('norm').checked"), true);
        let normalized = b.eval(member_text);
        assert!(
            !normalized.as_str().unwrap().contains('\u{651}'),
            "{normalized}"
        );
        // k goes back up; Enter on the first cluster opens it too.
        b.press("k");
        b.press("Enter");
        b.wait_for("document.querySelectorAll('details.g[open] .pair').length === 2");
        // Identical texts say so instead of marking nothing.
        assert_eq!(
            b.eval("document.querySelector('details.g .pair .tag').textContent"),
            "نص مطابق للممثل"
        );
        no_errors_and_no_requests_but_the_page(b, &page);
    });
}

fn html_references_show_decoded_in_the_originals() {
    let dir = TempDir::new().unwrap();
    let input = dir.path().join("quoted.jsonl");
    let text = "وزير الخارجية: &quot;لن نقبل&quot; بأي حل لا يضمن عودة اللاجئين إلى ديارهم";
    let mut lines = String::new();
    for (id, title) in [
        ("q-1", text),
        ("q-2", text),
        ("q-3", &text.replace("&quot;", "\"")),
    ] {
        lines.push_str(&format!(
            "{}\n",
            serde_json::json!({ "id": id, "title": title })
        ));
    }
    fs::write(&input, lines).unwrap();
    let page = report(&dir, "quoted.html", &["cluster", input.to_str().unwrap()]);
    with_browser(|b| {
        b.open(&page);
        b.press("j");
        b.press("Enter");
        b.wait_for("document.querySelectorAll('details.g[open] .pair').length === 2");
        let texts = b
            .eval("[...document.querySelectorAll('details.g[open] .txt')].map(t => t.textContent)");
        let want = text.replace("&quot;", "\"");
        assert_eq!(texts, serde_json::json!([want, want, want, want]));
        // The preview of the closed row too, and nothing is marked as changed.
        assert_eq!(
            b.eval("document.querySelector('details.g .pv').textContent"),
            want
        );
        assert_eq!(count(b, "details.g[open] mark"), 0);
        no_errors_and_no_requests_but_the_page(b, &page);
    });
}

/// Texts and ids that would run script if they reached the page as markup.
const INJECTIONS: [&str; 6] = [
    "<script>window.__pwned = 1</script>",
    "</script><script>window.__pwned = 2</script>",
    "\"><img src=x onerror=\"window.__pwned = 3\">",
    "'><svg onload=window.__pwned=4>",
    "<!-- <script>window.__pwned = 5</script>",
    "<iframe srcdoc=\"<script>parent.__pwned = 6</script>\"></iframe>",
];

/// Words that tell two copies apart. Not numbers: short texts holding different numbers are
/// never duplicates.
const EDITION: [&str; 2] = ["الصباحية", "المسائية"];

fn injection_corpus(dir: &TempDir) -> PathBuf {
    let mut lines = String::new();
    for (i, bad) in INJECTIONS.iter().enumerate() {
        // Two near-identical documents per payload, so each lands in a cluster; the payload
        // is in the id, in the text, and in a word that differs between the two.
        for (copy, edition) in EDITION.iter().enumerate() {
            let doc = serde_json::json!({
                "id": format!("{bad}-{i}-{copy}"),
                "title": format!("خبر عاجل {bad} عن اجتماع مجلس الوزراء اليوم في الرياض نسخة {edition} {bad}"),
            });
            lines.push_str(&doc.to_string());
            lines.push('\n');
        }
    }
    let path = dir.path().join("<img src=x onerror=alert(7)>.jsonl");
    fs::write(&path, lines).unwrap();
    path
}

fn injected_markup_shows_as_text_and_runs_nothing() {
    let dir = TempDir::new().unwrap();
    let input = injection_corpus(&dir);
    let page = report(
        &dir,
        "inject.html",
        &["cluster", input.to_str().unwrap(), "--threshold", "0.3"],
    );
    with_browser(|b| {
        b.open(&page);
        assert!(count(b, "details.g") >= 1);
        let open_all = "document.querySelectorAll('details.g').forEach(d => d.open = true)";
        let all_built = "document.querySelectorAll('details.g > .body').length \
                         === document.querySelectorAll('details.g').length";
        // Every group open: the markup is there as text, in ids, texts and the input name.
        b.eval(open_all);
        b.wait_for(all_built);
        // textContent, not innerText: rows far from the viewport are not rendered
        // (content-visibility), and innerText leaves their text out.
        let text = b.eval("document.body.textContent");
        let text = text.as_str().unwrap();
        for bad in INJECTIONS {
            assert!(text.contains(bad), "{bad} missing from the page's text");
        }
        assert!(
            text.contains("<img src=x onerror=alert(7)>.jsonl"),
            "the input name, as text"
        );
        // The other paths that render data: the normalized form, and search results.
        b.press("n");
        b.wait_for(all_built);
        b.press("/");
        b.type_text("<script>");
        b.wait_for("document.getElementById('list').dataset.query === '<script>'");
        assert!(count(b, "details.g") >= 1);
        b.eval(open_all);
        b.wait_for(all_built);

        assert_eq!(b.eval("typeof window.__pwned"), "undefined");
        assert_eq!(count(b, "img, iframe, [onerror], [onload], [srcdoc]"), 0);
        assert_eq!(
            count(b, "script"),
            2,
            "only the data block and the page's script"
        );
        assert_eq!(
            b.eval("[...document.querySelectorAll('svg')].map(s => s.id).sort()"),
            serde_json::json!(["histogram", "s-curve-long", "s-curve-short"]),
            "only the charts"
        );
        no_errors_and_no_requests_but_the_page(b, &page);
    });
}

fn the_eval_page_shows_false_merges_and_false_splits() {
    let dir = TempDir::new().unwrap();
    let labelled = dir.path().join("labelled.jsonl");
    let docs = [
        // Same words, different stories: a false merge.
        (
            "rain-a",
            "أمطار غزيرة على الرياض اليوم وتحذيرات من السيول في الأحياء الشرقية",
            "rain",
        ),
        (
            "rain-b",
            "أمطار غزيرة على الرياض اليوم وتحذيرات من السيول في الأحياء الشرقية",
            "flood",
        ),
        // One story told in different words: a false split.
        (
            "oil-a",
            "ارتفاع أسعار النفط في الأسواق العالمية بعد قرار أوبك",
            "oil",
        ),
        (
            "oil-b",
            "برنت يصعد إلى أعلى مستوى منذ شهرين عقب خفض الإنتاج",
            "oil",
        ),
    ];
    let mut lines = String::new();
    for (id, text, group) in docs {
        let line = serde_json::json!({ "id": id, "text": text, "group": group });
        lines.push_str(&format!("{line}\n"));
    }
    fs::write(&labelled, lines).unwrap();
    let page = report(&dir, "eval.html", &["eval", labelled.to_str().unwrap()]);
    with_browser(|b| {
        b.open(&page);
        assert_eq!(count(b, "details.g"), 2);
        assert_eq!(
            b.eval("[...document.querySelectorAll('details.g .kind')].map(k => k.className)"),
            serde_json::json!(["kind false-merge", "kind false-split"])
        );
        // The kind filter keeps one of them.
        b.eval("(() => { const k = document.getElementById('kind'); k.value = 'false-split'; k.dispatchEvent(new Event('change')); })()");
        b.wait_for("document.querySelectorAll('details.g').length === 1");
        b.press("j");
        b.press("Enter");
        b.wait_for("document.querySelectorAll('details.g[open] .pair').length === 1");
        assert_eq!(
            b.eval("document.querySelector('details.g[open] .mem .txt').textContent"),
            "برنت يصعد إلى أعلى مستوى منذ شهرين عقب خفض الإنتاج"
        );
        assert_eq!(count(b, "table.scores tbody tr"), 1);
        no_errors_and_no_requests_but_the_page(b, &page);
    });
}

fn a_large_report_builds_rows_only_as_they_scroll_into_view() {
    let dir = TempDir::new().unwrap();
    // 1,500 clusters of two near-identical texts each.
    let mut lines = String::new();
    for i in 0..1500 {
        for (copy, edition) in EDITION.iter().enumerate() {
            let doc = serde_json::json!({
                "id": format!("d{i}-{copy}"),
                "title": format!("الخبر رقم {i} عن موضوع رقم {i} في اليوم رقم {i} من الشهر نسخة {edition}"),
            });
            lines.push_str(&format!("{doc}\n"));
        }
    }
    let input = dir.path().join("many.jsonl");
    fs::write(&input, lines).unwrap();
    let page = report(&dir, "many.html", &["cluster", input.to_str().unwrap()]);
    with_browser(|b| {
        b.open(&page);
        let rows = count(b, "details.g");
        assert!((100..=400).contains(&rows), "{rows} rows at first");
        assert_eq!(count(b, ".pair"), 0, "no texts before a group is opened");
        // Scrolling to the end adds rows until the last one.
        b.eval(
            "new Promise(resolve => { (function step() { window.scrollTo(0, document.body.scrollHeight); \
             if (document.querySelectorAll('details.g').length < 1500) setTimeout(step, 10); \
             else resolve(); })(); })",
        );
        assert_eq!(count(b, "details.g"), 1500);
        no_errors_and_no_requests_but_the_page(b, &page);
    });
}

/// Writes `docs/report-headlines.png`, the screenshot in README.md:
/// `cargo test --test external -- --ignored screenshot`.
fn screenshot_of_the_headlines_report() {
    let dir = TempDir::new().unwrap();
    let page = dir.path().join("headlines.html");
    // From the package folder, so that the page names the input as README.md does.
    Command::cargo_bin("mukarrar")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["cluster", "samples/headlines.jsonl", "-q", "-o"])
        .arg(&page)
        .assert()
        .success();
    with_browser(|b| {
        b.open(&page);
        for _ in 0..2 {
            b.press("j");
            b.press("Enter");
        }
        b.wait_for("document.querySelectorAll('details.g[open] .pair').length === 2");
        b.eval("document.activeElement.blur()");
        // A page shorter than the window comes out shifted in a right-to-left capture: give
        // it the height of the picture.
        b.eval("document.body.style.minHeight = '1000px'");
        let height = b
            .eval("document.documentElement.scrollHeight")
            .as_u64()
            .unwrap() as u32;
        let png = b.screenshot(WIDTH, height.clamp(1000, 1600));
        let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report-headlines.png");
        fs::create_dir_all(out.parent().unwrap()).unwrap();
        fs::write(&out, png).unwrap();
        eprintln!("wrote {}", out.display());
    });
}

/// Load time of a large report (BENCHMARKS.md): `MUKARRAR_REPORT=dev.html cargo test --test
/// external -- --ignored load_time`.
fn load_time_of_a_large_report() {
    let page = PathBuf::from(std::env::var("MUKARRAR_REPORT").expect("set MUKARRAR_REPORT"));
    with_browser(|b| {
        let started = std::time::Instant::now();
        b.open(&page);
        let wall = started.elapsed();
        let timing = b.eval(
            "(() => { const n = performance.getEntriesByType('navigation')[0]; \
             const at = (name) => Math.round(performance.getEntriesByName(name)[0].startTime); \
             return { script_start: at('mukarrar-start'), json_parsed: at('mukarrar-parsed'), \
             first_rows: at('mukarrar-ready'), load_event: Math.round(n.loadEventEnd), \
             rows: document.querySelectorAll('details.g').length, \
             groups: document.getElementById('count').textContent }; })()",
        );
        // Long tasks (over 50 ms) while scrolling to the end and opening groups.
        b.eval(
            "window.__long = []; new PerformanceObserver(l => l.getEntries() \
             .forEach(e => window.__long.push(Math.round(e.duration)))).observe({ type: 'longtask' })",
        );
        let screens = b.eval(
            "new Promise(resolve => { const t0 = performance.now(); let frames = 0; \
             (function step() { window.scrollBy(0, window.innerHeight); \
             if (++frames < 200) requestAnimationFrame(step); \
             else resolve({ frames, ms_per_frame: +((performance.now() - t0) / frames).toFixed(1), \
             rows: document.querySelectorAll('details.g').length }); })(); })",
        );
        let scroll = b.eval(
            "new Promise(resolve => { const t0 = performance.now(); let frames = 0; \
             (function step() { window.scrollTo(0, document.body.scrollHeight); frames++; \
             if (document.getElementById('more').hidden) resolve({ ms: Math.round(performance.now() - t0), frames, \
             rows: document.querySelectorAll('details.g').length }); \
             else requestAnimationFrame(step); })(); })",
        );
        let open = b.eval(
            "new Promise(resolve => { const t0 = performance.now(); \
             const rows = [...document.querySelectorAll('details.g')].slice(0, 50); \
             rows.forEach(d => d.open = true); \
             requestAnimationFrame(() => setTimeout(() => resolve({ opened: rows.length, \
             ms: Math.round(performance.now() - t0), pairs: document.querySelectorAll('.pair').length }), 0)); })",
        );
        let open_one = b.eval(
            "(() => { window.scrollTo(0, 0); const d = document.querySelector('details.g:not([open])'); \
             const t0 = performance.now(); d.open = true; d.dispatchEvent(new Event('toggle')); \
             document.body.offsetHeight; \
             return { ms: Math.round(performance.now() - t0), pairs: d.querySelectorAll('.pair').length }; })()",
        );
        let search = b.eval(
            "new Promise(resolve => { const q = document.getElementById('q'); const t0 = performance.now(); \
             q.value = 'الرياض'; q.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' })); \
             resolve({ ms: Math.round(performance.now() - t0), \
             shown: document.getElementById('count').textContent }); })",
        );
        let long = b.eval("window.__long");
        eprintln!("wall (navigate → ready): {wall:?}");
        eprintln!("page timing (ms from navigation start): {timing}");
        eprintln!("scroll down one screen per frame: {screens}");
        eprintln!("jump to the end until the last row: {scroll}");
        eprintln!("open the first 50 groups: {open}");
        eprintln!("open one more group, with layout: {open_one}");
        eprintln!("search for a word: {search}");
        eprintln!("long tasks after load (ms): {long}");
        assert!(b.errors.is_empty(), "{:#?}", b.errors);
    });
}

/// A test that needs Chromium.
const fn browser_test(name: &'static str, run: fn()) -> Test {
    Test {
        name,
        needs: &[Need::Chromium],
        ignored: None,
        run,
    }
}

pub const TESTS: &[Test] = &[
    browser_test(
        "browser::the_headlines_report_loads_with_no_errors_and_no_requests",
        the_headlines_report_loads_with_no_errors_and_no_requests,
    ),
    browser_test(
        "browser::the_search_box_filters_clusters_by_text_and_by_id",
        the_search_box_filters_clusters_by_text_and_by_id,
    ),
    browser_test(
        "browser::a_cluster_opens_from_the_keyboard_with_its_differences_marked",
        a_cluster_opens_from_the_keyboard_with_its_differences_marked,
    ),
    browser_test(
        "browser::injected_markup_shows_as_text_and_runs_nothing",
        injected_markup_shows_as_text_and_runs_nothing,
    ),
    browser_test(
        "browser::html_references_show_decoded_in_the_originals",
        html_references_show_decoded_in_the_originals,
    ),
    browser_test(
        "browser::the_eval_page_shows_false_merges_and_false_splits",
        the_eval_page_shows_false_merges_and_false_splits,
    ),
    browser_test(
        "browser::a_large_report_builds_rows_only_as_they_scroll_into_view",
        a_large_report_builds_rows_only_as_they_scroll_into_view,
    ),
    Test {
        ignored: Some("writes docs/report-headlines.png"),
        ..browser_test(
            "browser::screenshot_of_the_headlines_report",
            screenshot_of_the_headlines_report,
        )
    },
    Test {
        ignored: Some("measures the report named by MUKARRAR_REPORT"),
        ..browser_test(
            "browser::load_time_of_a_large_report",
            load_time_of_a_large_report,
        )
    },
];
