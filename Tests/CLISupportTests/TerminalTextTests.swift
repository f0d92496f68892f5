import Testing
@testable import CLISupport

@Suite struct TerminalTextTests {
    @Test func escapesC0ControlsAndDel() {
        #expect(terminalEscaped("a\u{1B}[31mb") == "a\\x1b[31mb")
        #expect(terminalEscaped("\u{1B}]0;pwned\u{07}") == "\\x1b]0;pwned\\x07")
        #expect(terminalEscaped("x\ry\u{08}z\u{00}") == "x\\x0dy\\x08z\\x00")
        #expect(terminalEscaped("tab\there\nline") == "tab\\x09here\\x0aline")
        #expect(terminalEscaped("\u{1F}\u{7F}") == "\\x1f\\x7f")
    }

    @Test func escapesC1Controls() {
        // U+009B is CSI on its own: some terminals read it as ESC [.
        #expect(terminalEscaped("a\u{9B}31mb") == "a\\x9b31mb")
        #expect(terminalEscaped("\u{80}\u{85}\u{9F}") == "\\x80\\x85\\x9f")
    }

    @Test func escapesBidiOverridesAndIsolates() {
        #expect(terminalEscaped("abc\u{202E}fed") == "abc\\u{202e}fed")
        let all = (0x202A...0x202E).map { Unicode.Scalar($0)! } + (0x2066...0x2069).map { Unicode.Scalar($0)! }
        for s in all {
            #expect(terminalEscaped(String(s)) == "\\u{\(String(s.value, radix: 16))}")
        }
        // Neighbours of the ranges are ordinary text.
        for v: UInt32 in [0x2029, 0x202F, 0x2065, 0x206A, 0xA0] {
            let s = String(Unicode.Scalar(v)!)
            #expect(terminalEscaped(s) == s)
        }
    }

    @Test func leavesOrdinaryTextAlone() {
        for text in ["007bbfb7", "Hello, world! ~`{}[]\\/|", "Größe", "日本語のパズル", "émoji 🧩", "", "C:\\data\\x1b"] {
            #expect(terminalEscaped(text) == text)
        }
    }

    @Test func keepsOnlyWhatIsAsked() {
        let message = "file.csv:3: rating '\u{1B}[2J' is bad\n\tsecond line\r"
        #expect(terminalEscaped(message, keeping: ["\n", "\t"]) == "file.csv:3: rating '\\x1b[2J' is bad\n\tsecond line\\x0d")
        #expect(terminalEscaped(message) == "file.csv:3: rating '\\x1b[2J' is bad\\x0a\\x09second line\\x0d")
    }

    @Test func jsonStyleKeepsJSONMeaning() {
        #expect(terminalEscaped("{\"n\":\"a\u{1B}b\u{202E}\u{9B}\"}", style: .json) == "{\"n\":\"a\\u001bb\\u202e\\u009b\"}")
        #expect(terminalEscaped("{\n\t\"k\": 1\n}", keeping: ["\n", "\t"], style: .json) == "{\n\t\"k\": 1\n}")
    }

    @Test func colourResolution() {
        let none: [String: String] = [:], empty = ["NO_COLOR": ""], set = ["NO_COLOR": "1"], other = ["TERM": "xterm"]
        // auto: a terminal without NO_COLOR (an empty NO_COLOR counts as unset).
        #expect(ColorChoice.resolve(.auto, isTTY: true, environment: none))
        #expect(ColorChoice.resolve(.auto, isTTY: true, environment: empty))
        #expect(ColorChoice.resolve(.auto, isTTY: true, environment: other))
        #expect(!ColorChoice.resolve(.auto, isTTY: true, environment: set))
        #expect(!ColorChoice.resolve(.auto, isTTY: true, environment: ["NO_COLOR": "0"]))
        for env in [none, empty, set] { #expect(!ColorChoice.resolve(.auto, isTTY: false, environment: env)) }
        // A flag overrides NO_COLOR and the TTY test.
        for tty in [false, true] {
            for env in [none, empty, set] {
                #expect(ColorChoice.resolve(.always, isTTY: tty, environment: env))
                #expect(!ColorChoice.resolve(.never, isTTY: tty, environment: env))
            }
        }
    }

    @Test func colourOption() throws {
        let options = [ColorChoice.option]
        #expect(try Arguments(["--color", "never"], options: options).choice("color", ColorChoice.self) == .never)
        #expect(try Arguments(["--color=always"], options: options).choice("color", ColorChoice.self) == .always)
        #expect(try Arguments([], options: options).choice("color", ColorChoice.self) == nil)
        #expect(throws: UsageError.self) { try Arguments(["--color", "yes"], options: options).choice("color", ColorChoice.self) }
        // Explicit choices do not depend on the process's stdout or environment.
        #expect(try ColorChoice.forStandardOutput(Arguments(["--color", "always"], options: options)))
        #expect(try !ColorChoice.forStandardOutput(Arguments(["--color", "never"], options: options)))
    }
}
