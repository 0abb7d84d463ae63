//! A small Chrome DevTools Protocol client over `--remote-debugging-pipe`.
//!
//! Chromium reads commands from file descriptor 3 and writes replies and events to file
//! descriptor 4, one JSON message per NUL-terminated record. A shell `exec` maps our two pipes
//! onto those descriptors, so the client needs no WebSocket, no extra crate and no network:
//! only std and serde_json.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How long any one step may take before the test fails (a hung browser, not a slow page).
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Where Chromium is: `$MUKARRAR_CHROMIUM` (`none`: nowhere), else `/usr/bin/chromium`, else
/// `chromium` or `chromium-browser` on the PATH; or why it was not found.
pub fn find_chromium() -> Result<PathBuf, String> {
    match std::env::var_os("MUKARRAR_CHROMIUM") {
        Some(p) if p == "none" => return Err("Chromium not found: MUKARRAR_CHROMIUM=none".into()),
        Some(p) if !p.is_empty() => {
            let p = PathBuf::from(p);
            return if p.is_file() {
                Ok(p)
            } else {
                Err(format!(
                    "Chromium not found: MUKARRAR_CHROMIUM={} is not a file",
                    p.display()
                ))
            };
        }
        _ => {}
    }
    let fixed = Path::new("/usr/bin/chromium");
    if fixed.is_file() {
        return Ok(fixed.to_path_buf());
    }
    crate::on_path(&["chromium", "chromium-browser"]).ok_or_else(|| {
        "Chromium not found: no /usr/bin/chromium, no chromium or chromium-browser on the PATH"
            .into()
    })
}

/// A headless Chromium with one page attached.
pub struct Browser {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: u64,
    session: String,
    /// Console errors, uncaught exceptions and error log entries, in order.
    pub errors: Vec<String>,
    /// URLs of every request the page made.
    pub requests: Vec<String>,
    loaded: bool,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts Chromium at `binary` with a fresh profile and opens an empty page of
    /// `width` × `height` CSS pixels.
    pub fn launch(binary: &Path, width: u32, height: u32) -> Browser {
        let profile = tempfile::tempdir().expect("temporary profile folder");
        let mut child = Command::new("sh")
            .arg("-c")
            // fd 3: what Chromium reads (our stdin pipe); fd 4: what it writes (our stdout).
            .arg(r#"exec "$0" "$@" 3<&0 4>&1 0</dev/null 1>/dev/null"#)
            .arg(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--mute-audio",
                "--remote-debugging-pipe",
            ])
            .arg(format!("--window-size={width},{height}"))
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match reader.read_until(0, &mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        if buf.last() == Some(&0) {
                            buf.pop();
                        }
                        if let Ok(v) = serde_json::from_slice::<Value>(&buf) {
                            if tx.send(v).is_err() {
                                return;
                            }
                        }
                    }
                }
            }
        });
        let mut b = Browser {
            child,
            stdin,
            messages: rx,
            next_id: 0,
            session: String::new(),
            errors: Vec::new(),
            requests: Vec::new(),
            loaded: false,
            _profile: profile,
        };
        let target = b.call(None, "Target.createTarget", json!({ "url": "about:blank" }));
        let target_id = target["targetId"].as_str().unwrap().to_string();
        let attached = b.call(
            None,
            "Target.attachToTarget",
            json!({ "targetId": target_id, "flatten": true }),
        );
        b.session = attached["sessionId"].as_str().unwrap().to_string();
        for domain in [
            "Page.enable",
            "Runtime.enable",
            "Log.enable",
            "Network.enable",
        ] {
            b.send(domain, json!({}));
        }
        b.send(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false }),
        );
        b
    }

    /// Sends a command to the page and returns its result.
    pub fn send(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.call(Some(&session), method, params)
    }

    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        self.stdin
            .write_all(&bytes)
            .and_then(|_| self.stdin.flush())
            .unwrap_or_else(|e| panic!("Chromium went away while sending {method}: {e}"));
        // A little longer than PATIENCE, so that wait_for's own deadline comes first.
        let deadline = Instant::now() + PATIENCE + Duration::from_secs(5);
        loop {
            let msg = self.next_message(deadline, method);
            if msg["id"].as_u64() == Some(id) {
                if let Some(err) = msg.get("error") {
                    panic!("{method} failed: {err}");
                }
                return msg["result"].clone();
            }
            self.event(&msg);
        }
    }

    fn next_message(&mut self, deadline: Instant, waiting_for: &str) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.messages.recv_timeout(left) {
            Ok(v) => v,
            Err(RecvTimeoutError::Timeout) => {
                panic!("no answer from Chromium within {PATIENCE:?} ({waiting_for})")
            }
            Err(RecvTimeoutError::Disconnected) => {
                panic!("Chromium exited while waiting for {waiting_for}")
            }
        }
    }

    /// Records what the tests look at: errors and requests.
    fn event(&mut self, msg: &Value) {
        let params = &msg["params"];
        match msg["method"].as_str() {
            Some("Runtime.exceptionThrown") => {
                let d = &params["exceptionDetails"];
                let text = d["exception"]["description"]
                    .as_str()
                    .or(d["text"].as_str())
                    .unwrap_or("exception");
                self.errors.push(format!("exception: {text}"));
            }
            Some("Runtime.consoleAPICalled") => {
                let kind = params["type"].as_str().unwrap_or("");
                if matches!(kind, "error" | "assert" | "warning") {
                    let args: Vec<String> = params["args"]
                        .as_array()
                        .map(|a| a.iter().map(|v| v["value"].to_string()).collect())
                        .unwrap_or_default();
                    self.errors
                        .push(format!("console.{kind}: {}", args.join(" ")));
                }
            }
            Some("Log.entryAdded") => {
                let e = &params["entry"];
                if matches!(e["level"].as_str(), Some("error" | "warning")) {
                    self.errors.push(format!(
                        "log ({}): {}",
                        e["source"].as_str().unwrap_or("?"),
                        e["text"].as_str().unwrap_or("")
                    ));
                }
            }
            Some("Network.requestWillBeSent") => {
                if let Some(url) = params["request"]["url"].as_str() {
                    self.requests.push(url.to_string());
                }
            }
            Some("Page.loadEventFired") => self.loaded = true,
            _ => {}
        }
    }

    /// Opens `file` and waits until the page has loaded and its script says it is ready.
    pub fn open(&mut self, file: &Path) {
        let url = format!("file://{}", file.canonicalize().unwrap().display());
        self.loaded = false;
        self.send("Page.navigate", json!({ "url": url }));
        let deadline = Instant::now() + PATIENCE;
        while !self.loaded {
            let msg = self.next_message(deadline, "the load event");
            self.event(&msg);
        }
        // The page's script runs before the load event: it has finished or failed by now.
        let ready = self.eval("document.documentElement.dataset.ready === '1'");
        assert_eq!(
            ready,
            Value::Bool(true),
            "the page's script did not finish; errors: {:#?}",
            self.errors
        );
    }

    /// Evaluates `expression` in the page (awaiting a promise) and returns its value.
    pub fn eval(&mut self, expression: &str) -> Value {
        let r = self.send(
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("`{expression}` threw: {e}");
        }
        r["result"]["value"].clone()
    }

    /// Polls `condition` until it is true; fails the test when it never becomes true.
    pub fn wait_for(&mut self, condition: &str) {
        let expr = format!(
            "new Promise((resolve) => {{ const end = Date.now() + {ms}; \
             (function poll() {{ let ok = false; try {{ ok = !!({condition}); }} catch (e) {{}} \
             if (ok || Date.now() > end) resolve(ok); else setTimeout(poll, 20); }})(); }})",
            ms = PATIENCE.as_millis()
        );
        assert_eq!(
            self.eval(&expr),
            Value::Bool(true),
            "never true: {condition}"
        );
    }

    /// Presses one key (a printable character, or a named key such as "Enter").
    pub fn press(&mut self, key: &str) {
        let (code, text, vk) = match key {
            "Enter" => ("Enter".to_string(), "\r".to_string(), 13),
            "Escape" => ("Escape".to_string(), String::new(), 27),
            "ArrowDown" => ("ArrowDown".to_string(), String::new(), 40),
            "ArrowUp" => ("ArrowUp".to_string(), String::new(), 38),
            " " => ("Space".to_string(), " ".to_string(), 32),
            "/" => ("Slash".to_string(), "/".to_string(), 191),
            k => {
                let c = k.chars().next().unwrap();
                (
                    format!("Key{}", c.to_ascii_uppercase()),
                    k.to_string(),
                    c.to_ascii_uppercase() as u32,
                )
            }
        };
        let mut down = json!({
            "type": if text.is_empty() { "rawKeyDown" } else { "keyDown" },
            "key": key, "code": code, "windowsVirtualKeyCode": vk,
        });
        if !text.is_empty() {
            down["text"] = json!(text);
        }
        self.send("Input.dispatchKeyEvent", down);
        self.send(
            "Input.dispatchKeyEvent",
            json!({ "type": "keyUp", "key": key, "code": code, "windowsVirtualKeyCode": vk }),
        );
    }

    /// Types `text` into the focused element, as an input method would.
    pub fn type_text(&mut self, text: &str) {
        self.send("Input.insertText", json!({ "text": text }));
    }

    /// A PNG of the whole page (`height` CSS pixels tall at most).
    pub fn screenshot(&mut self, width: u32, height: u32) -> Vec<u8> {
        let r = self.send(
            "Page.captureScreenshot",
            json!({
                "format": "png",
                "captureBeyondViewport": true,
                "clip": { "x": 0, "y": 0, "width": width, "height": height, "scale": 1 },
            }),
        );
        base64_decode(r["data"].as_str().expect("screenshot data"))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let mut close = json!({ "id": self.next_id + 1, "method": "Browser.close" }).to_string();
        close.push('\0');
        let _ = self.stdin.write_all(close.as_bytes());
        let _ = self.stdin.flush();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let bytes: Vec<u8> = s
        .bytes()
        .filter(|&c| c != b'=' && !c.is_ascii_whitespace())
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= value(c) << (18 - 6 * i);
        }
        let len = chunk.len() - 1;
        out.extend_from_slice(&n.to_be_bytes()[1..1 + len]);
    }
    out
}

pub const TESTS: &[crate::Test] = &[crate::Test {
    name: "cdp::base64_decodes",
    needs: &[],
    ignored: None,
    run: base64_decodes,
}];

fn base64_decodes() {
    assert_eq!(base64_decode("TWFu"), b"Man");
    assert_eq!(base64_decode("TWE="), b"Ma");
    assert_eq!(base64_decode("TQ=="), b"M");
}
