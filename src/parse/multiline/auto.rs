//! `multiline.type: auto`: the continuation lines of the common runtimes' stack traces, and nothing
//! else.
//!
//! Precision first: a line joins the one before only when its shape is one no ordinary log line has
//! (`\tat com.x.Y.m(Y.java:10)`, `  File "x.py", line 3, in f`, `\t/app/main.go:12 +0x1d`), or when
//! the lines before it put the group in a state where it can only be the trace's (the code line after
//! a Python `File` line, a Go function line after `goroutine 1 [running]:`). The head of a trace is
//! the line before its first continuation, whatever it is; Python's and Go's own heads (`Traceback
//! (most recent call last):`, `panic: `) start the state their lines need. Blank lines inside a
//! Python chained traceback or a Go panic are joined only once the line after them confirms it
//! (`Tentative`): a blank line after a trace is otherwise its own event.
//!
//! Runtimes and the shapes recognised (fixtures in `fixtures/multiline/`, produced by the runtimes):
//! - JVM: `\tat …(…)`, `Caused by: …`, `\tSuppressed: …`, `\t... N more`.
//! - Node.js: `    at fn (/app/x.js:1:2)`, `    at /app/x.js:1:2`, `    at new X (<anonymous>)`.
//! - .NET: `   at Ns.C.M() in /src/x.cs:line 12`, ` ---> Inner: …`, `--- End of inner exception stack
//!   trace ---`.
//! - Python: `Traceback (most recent call last):`, `  File "…", line N, in f`, the indented code and
//!   caret lines, the closing `Error: message` line, and chained tracebacks ("During handling of the
//!   above exception …", "The above exception was the direct cause …").
//! - Go: `panic: …`/`fatal error: …`, `[signal …]`, `goroutine N [state]:`, function and file lines,
//!   `created by …`, goroutines separated by blank lines.
//! - Ruby: `\tfrom /app/x.rb:5:in 'm'`, `\t ... N levels...`.

use std::sync::LazyLock;

use regex::Regex;

/// Where an open group is in the trace it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum State {
    /// One line, no continuation yet: any line may be a trace's head.
    #[default]
    Head,
    /// Frames of a JVM, Node.js, .NET or Ruby trace.
    Frames,
    Python(Python),
    Go(Go),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Python {
    /// After `Traceback (most recent call last):`.
    Traceback,
    /// After a `  File "…", line N` line.
    File,
    /// After a frame's code or caret line.
    Code,
    /// After the closing `Error: message` line.
    Exception,
    /// A blank line after the exception (tentative).
    Blank,
    /// After "During handling of the above exception …" / "The above exception was …".
    Chain,
    /// The blank line after that (tentative).
    ChainBlank,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Go {
    /// After `panic: …` or `fatal error: …`.
    Panic,
    /// A blank line before a goroutine (tentative).
    Blank,
    /// After `goroutine N [state]:`.
    Header,
    /// After a function line.
    Func,
    /// After a `\t/path/file.go:N +0x…` line.
    File,
}

/// What a line is to the group before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Join(State),
    /// A blank line that belongs to the trace only if the next line continues it.
    Tentative(State),
    Not,
}

/// The state of a group `line` starts.
pub(crate) fn start(line: &str) -> State {
    if line == PY_TRACEBACK {
        State::Python(Python::Traceback)
    } else if line.starts_with("panic: ") || line.starts_with("fatal error: ") {
        State::Go(Go::Panic)
    } else {
        State::Head
    }
}

/// Whether a lone line is worth holding until the timeout for a continuation that has not been
/// read yet (the end of a trace's first write); any other lone line ships at the end of the read.
pub(crate) fn looks_like_head(line: &str) -> bool {
    start(line) != State::Head
        || ["Exception", "Error", "Throwable"]
            .iter()
            .any(|word| line.contains(word))
}

/// What `line` is to a group in `state`.
pub(crate) fn continues(state: State, line: &str) -> Verdict {
    match state {
        State::Head | State::Frames => frames(state, line),
        State::Python(at) => python(at, line),
        State::Go(at) => go(at, line),
    }
}

const PY_TRACEBACK: &str = "Traceback (most recent call last):";

macro_rules! regex {
    ($name:ident, $re:expr) => {
        static $name: LazyLock<Regex> =
            LazyLock::new(|| Regex::new($re).expect("a valid built-in pattern"));
    };
}

// `at` frames of the JVM (`\tat a.B.c(B.java:1)`), .NET (`   at A.B() in /x.cs:line 1`) and Node.js
// (`    at f (/x.js:1:2)`, `    at /x.js:1:2`, `    at new P (<anonymous>)`). The callee must look like
// code (a dot, slash, `<` or `$` before its parenthesis, or a source location), so prose such as
// "    at least 3 retries (max 5)" is not a frame.
regex!(
    AT_FRAME,
    r"^[ \t]+at (?:async |new )?(?:[^\s()]*[./<$][^\s(]*\(.*\)|[^\s()]+ \(.*:\d+(?::\d+)?\)|(?:[^\s()]*[/.][^\s()]*|node:[^\s()]*):\d+:\d+|[^\s()]+ \((?:native|<anonymous>|index \d+)\))(?:\s.*)?$"
);
regex!(RUBY_FROM, r"^\s+from \S+:\d+:in .+$");
regex!(JVM_MORE, r"^\s+\.\.\. \d+ (?:more|common frames omitted)$");
regex!(RUBY_LEVELS, r"^\s+\.\.\. \d+ levels\.\.\.$");
regex!(
    DOTNET_END,
    r"^\s*--- End of (?:inner exception stack trace|stack trace from previous location(?: where exception was thrown)?) ---$"
);
regex!(DOTNET_INNER, r"^\s*---> \S");
regex!(PY_FILE, r#"^  File ".*", line \d+(?:, in .*)?$"#);
regex!(PY_CARET, r"^\s+[\^~][\s\^~]*$");
regex!(
    PY_REPEATED,
    r"^  \[Previous line repeated \d+ more times?\]$"
);
regex!(PY_EXCEPTION, r"^[A-Za-z_][\w.]*(?::(?: .*)?)?$");
regex!(GO_HEADER, r"^goroutine \d+ \[[^\]]*\]:$");
regex!(GO_SIGNAL, r"^\[signal .*\]$");
regex!(
    GO_FUNC,
    r"^(?:created by \S+(?: in goroutine \d+)?|[^\s(][^\s]*?\(.*\)|\.\.\.additional frames elided\.\.\.)$"
);
regex!(GO_FILE, r"^\t\S.*:\d+(?: \+0x[0-9a-f]+)?$");

fn frames(state: State, line: &str) -> Verdict {
    let indented = line.starts_with([' ', '\t']);
    let frame = if indented {
        AT_FRAME.is_match(line)
            || RUBY_FROM.is_match(line)
            || DOTNET_INNER.is_match(line)
            || (state == State::Frames
                && (JVM_MORE.is_match(line)
                    || RUBY_LEVELS.is_match(line)
                    || DOTNET_END.is_match(line)
                    || line.trim_start().starts_with("Suppressed: ")
                    || line.trim_start().starts_with("Caused by: ")))
    } else {
        line.starts_with(" ---> ")
            || (state == State::Frames
                && (line.starts_with("Caused by: ") || DOTNET_END.is_match(line)))
    };
    match frame {
        true => Verdict::Join(State::Frames),
        false => Verdict::Not,
    }
}

fn python(at: Python, line: &str) -> Verdict {
    use Python::*;
    let next = match at {
        Traceback | File | Code if PY_FILE.is_match(line) => File,
        File | Code if line.starts_with("    ") && !line[4..].starts_with(' ') => Code,
        File | Code if PY_CARET.is_match(line) || PY_REPEATED.is_match(line) => Code,
        File | Code if PY_EXCEPTION.is_match(line) => Exception,
        Exception if line.is_empty() => return Verdict::Tentative(State::Python(Blank)),
        Blank
            if line == "During handling of the above exception, another exception occurred:"
                || line
                    == "The above exception was the direct cause of the following exception:" =>
        {
            Chain
        }
        Chain if line.is_empty() => return Verdict::Tentative(State::Python(ChainBlank)),
        ChainBlank if line == PY_TRACEBACK => Traceback,
        _ => return Verdict::Not,
    };
    Verdict::Join(State::Python(next))
}

fn go(at: Go, line: &str) -> Verdict {
    use self::Go::*;
    let next = match at {
        Panic | File if line.is_empty() => return Verdict::Tentative(State::Go(Blank)),
        Panic if GO_SIGNAL.is_match(line) || line.starts_with('\t') => Panic,
        Panic | Blank if GO_HEADER.is_match(line) || line == "runtime stack:" => Header,
        Header | File if GO_FUNC.is_match(line) => Func,
        Func if GO_FILE.is_match(line) => File,
        _ => return Verdict::Not,
    };
    Verdict::Join(State::Go(next))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs lines through the detector from a head; returns the verdict on each line after it.
    fn verdicts(lines: &[&str]) -> Vec<bool> {
        let mut state = start(lines[0]);
        lines[1..]
            .iter()
            .map(|line| match continues(state, line) {
                Verdict::Join(next) | Verdict::Tentative(next) => {
                    state = next;
                    true
                }
                Verdict::Not => {
                    state = start(line);
                    false
                }
            })
            .collect()
    }

    /// Every line continues the one before, the last (an ordinary line after the trace) excepted.
    fn continued_to_the_last_line(lines: &[&str]) {
        let mut expected = vec![true; lines.len() - 2];
        expected.push(false);
        assert_eq!(verdicts(lines), expected);
    }

    #[test]
    fn frames_of_each_runtime_continue_and_prose_does_not() {
        for frame in [
            "\tat com.funlynk.Billing.charge(Billing.java:42)",
            "\tat java.base/java.lang.Thread.run(Thread.java:1583)",
            "\tat jdk.internal.reflect.GeneratedMethodAccessor1.invoke(Unknown Source)",
            "    at Object.<anonymous> (/app/index.js:3:9)",
            "    at node:internal/main/run_main_module:28:49",
            "    at async Promise.all (index 0)",
            "    at new Promise (<anonymous>)",
            "   at Program.Main(String[] args) in /src/Program.cs:line 10",
            "\tfrom /app/billing.rb:5:in 'charge'",
        ] {
            assert_eq!(
                continues(State::Head, frame),
                Verdict::Join(State::Frames),
                "{frame:?}"
            );
        }
        for prose in [
            "    at least 3 retries (max 5)",
            "  at 10:30:15 we restart",
            "    indented text",
            "Caused by: a head alone is not a trace",
            "  at com.foo (broken)",
            "",
        ] {
            assert_eq!(continues(State::Head, prose), Verdict::Not, "{prose:?}");
        }
    }

    #[test]
    fn a_python_chained_traceback_continues_through_its_blank_lines() {
        let trace = [
            "Traceback (most recent call last):",
            "  File \"/app/main.py\", line 3, in <module>",
            "    charge()",
            "    ~~~~~~^^",
            "KeyError: 'card'",
            "",
            "During handling of the above exception, another exception occurred:",
            "",
            "Traceback (most recent call last):",
            "  File \"/app/main.py\", line 5, in <module>",
            "    raise RuntimeError(\"boom\")",
            "RuntimeError: boom",
            "INFO:root:next request",
        ];
        continued_to_the_last_line(&trace);
    }

    /// .NET is not in Debian, so no fixture of its own: the format of `Exception.ToString()`, as
    /// Microsoft documents it, with an inner exception.
    #[test]
    fn a_dotnet_trace_with_an_inner_exception_continues() {
        let trace = [
            "System.InvalidOperationException: charge failed",
            " ---> System.Net.Http.HttpRequestException: Connection refused (payments:443)",
            "   at Billing.Client.ConnectAsync(CancellationToken ct) in /src/Billing/Client.cs:line 88",
            "   at Billing.Client.SendAsync() in /src/Billing/Client.cs:line 41",
            "   --- End of inner exception stack trace ---",
            "   at Billing.Charge.RunAsync() in /src/Billing/Charge.cs:line 42",
            "--- End of stack trace from previous location ---",
            "   at Program.<Main>$(String[] args) in /src/Program.cs:line 12",
            "info: Microsoft.Hosting.Lifetime[0]",
        ];
        continued_to_the_last_line(&trace);
    }

    #[test]
    fn a_go_panic_continues_through_its_goroutines() {
        let trace = [
            "panic: runtime error: index out of range [5] with length 3",
            "",
            "goroutine 1 [running]:",
            "main.main()",
            "\t/app/main.go:8 +0x1d",
            "",
            "goroutine 18 [chan receive]:",
            "main.worker(0xc000010000, {0x4b0f20, 0x5})",
            "\t/app/main.go:20 +0x3f",
            "created by main.main in goroutine 1",
            "\t/app/main.go:7 +0x25",
            "exit status 2",
        ];
        continued_to_the_last_line(&trace);
    }
}
