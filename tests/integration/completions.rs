//! `mukarrar completions SHELL` and `mukarrar man`: generated from the command definitions,
//! so they name every command.

use crate::support::{fails, run};

const COMMANDS: [&str; 10] = [
    "cluster",
    "compare",
    "eval",
    "filter",
    "index",
    "normalize",
    "params",
    "sign",
    "completions",
    "man",
];

#[test]
fn every_shell_gets_a_script_that_names_every_command() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = run(&["completions", shell]);
        for command in COMMANDS {
            assert!(
                script.contains(command),
                "{shell}: no `{command}` in:\n{script}"
            );
        }
        // Options of a command, and the values of an option.
        assert!(script.contains("threshold"), "{shell}");
        assert!(script.contains("jsonl"), "{shell}");
    }
}

#[test]
fn the_bash_script_is_valid_bash() {
    let script = run(&["completions", "bash"]);
    let Ok(out) = std::process::Command::new("bash")
        .args(["-n", "-c", &script])
        .output()
    else {
        return; // no bash to check it with
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_unknown_shell_is_refused_with_the_known_ones() {
    let err = fails(&["completions", "tcsh"]);
    assert!(err.contains("tcsh"), "{err}");
    assert!(
        err.contains("bash") && err.contains("zsh") && err.contains("fish"),
        "{err}"
    );
}

#[test]
fn the_man_page_lists_every_command() {
    let page = run(&["man"]);
    assert!(page.contains(".TH mukarrar 1"), "{page}");
    for command in COMMANDS {
        assert!(
            page.contains(&format!("mukarrar\\-{command}")),
            "no `{command}` in:\n{page}"
        );
    }
}

#[test]
fn a_command_has_its_own_man_page() {
    let page = run(&["man", "cluster"]);
    assert!(page.contains(".TH mukarrar-cluster 1"), "{page}");
    assert!(page.contains("\\-\\-threshold"), "{page}");
    let page = run(&["man", "index", "add"]);
    assert!(page.contains(".TH mukarrar-index-add 1"), "{page}");
    assert!(page.contains("\\-\\-batch\\-size"), "{page}");
}

#[test]
fn a_man_page_for_no_such_command_is_refused_with_the_commands() {
    let err = fails(&["man", "clustre"]);
    assert!(err.contains("no command `clustre`"), "{err}");
    assert!(err.contains("cluster, compare, eval"), "{err}");
    let err = fails(&["man", "cluster", "x"]);
    assert!(
        err.contains("no command `cluster x`: `mukarrar cluster` has no commands"),
        "{err}"
    );
}
