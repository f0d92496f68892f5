import Foundation
import Testing
import TestSupport
@testable import GraphIR
import TRMCore

/// The YAML subset reader: what PyYAML's `yaml.dump` writes for an official run, and every refusal.
@Suite struct YAMLTests {
    static func parse(_ text: String) throws -> YAMLValue { try YAML.parse(Array(text.utf8)) }

    /// The fuzz seed all_config.yaml, written as pretrain.py's yaml.dump writes it (keys sorted, lists unindented).
    static let seed = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/seeds/official-config/arc-attn.yaml").path

    @Test func readsWhatPyYAMLWrites() throws {
        let root = try YAML.read(path: Self.seed)
        let top = try #require(root.mapping)
        let arch = try #require(top["arch"]?.mapping)
        #expect(arch["H_cycles"] == .int(3))
        #expect(arch["expansion"]?.double == 4)
        #expect(arch["mlp_t"] == .bool(false))
        #expect(arch["name"] == .string("recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1"))
        #expect(arch["loss"]?.mapping?["loss_type"] == .string("stablemax_cross_entropy"))
        #expect(arch.line(of: "L_cycles") == 4)
        #expect(top["data_paths"] == .list([.string("data/arc1concept-aug-1000")]))
        #expect(top["data_paths_test"] == .list([]))
        #expect(top["evaluators"] == .list([.mapping(YAMLMapping(entries: [.init(key: "name", value: .string("arc@ARC"), line: 30)]))]))
        #expect(top["ema"] == .bool(true) && top["project_name"] == .null)
        #expect(top["lr"] == .double(1e-4) && top["rms"] == .double(1e-5))
        #expect(top["tags"] == .list([.string("a"), .string("b c"), .string("d")]))
        #expect(top.keys.first == "arch" && top.keys.last == "tags")
    }

    @Test func scalars() throws {
        let text = """
            a: 12
            b: -7
            c: .5
            d: 2.5E+3
            e: "quoted # not a comment"   # a comment
            f: 'it''s'
            g: ~
            h: True
            i: "tab\\there \\u00e9"
            j: [1, two, 'three', 4.0, null]
            k: 0x1F
            l: 1e5x
            m:
            n: -.inf
            r: 1e-4
            o: plain text
              continued here
            p: "#x"
            q: a#b
            """
        let m = try #require(try Self.parse(text).mapping)
        #expect(m["a"] == .int(12) && m["b"] == .int(-7) && m["c"] == .double(0.5) && m["d"] == .double(2500))
        #expect(m["e"] == .string("quoted # not a comment") && m["f"] == .string("it's") && m["g"] == .null)
        #expect(m["h"] == .bool(true) && m["i"] == .string("tab\there é"))
        #expect(m["j"] == .list([.int(1), .string("two"), .string("three"), .double(4), .null]))
        #expect(m["k"] == .int(31) && m["l"] == .string("1e5x") && m["m"] == .null && m["n"] == .double(-.infinity))
        #expect(m["r"] == .double(1e-4))
        #expect(m["o"] == .string("plain text continued here") && m["p"] == .string("#x") && m["q"] == .string("a#b"))
    }

    @Test func nestedBlocksAndLists() throws {
        let text = """
            # leading comment
            ---
            top:
              list:
                - 1
                - - 2
                  - 3
                - k: v
                  w: 4
              flat:
              - x
              after: 5
            """
        let top = try #require(try Self.parse(text).mapping?["top"]?.mapping)
        let list = try #require(top["list"]?.list)
        #expect(list.count == 3 && list[0] == .int(1) && list[1] == .list([.int(2), .int(3)]))
        #expect(list[2].mapping?["w"] == .int(4))
        #expect(top["flat"] == .list([.string("x")]) && top["after"] == .int(5))
        #expect(try Self.parse("") == .null)
        #expect(try Self.parse("# only a comment\n\n") == .null)
        #expect(try Self.parse("\u{FEFF}a: 1\r\nb: 2\r\n").mapping?["b"] == .int(2))
    }

    @Test func refusalsNameTheirLine() throws {
        let cases: [(String, String)] = [
            ("a: 1\n  b: 2", "line 2: unexpected indentation"),
            ("a: 1\na: 2", "line 2: duplicate key 'a'"),
            ("a: &x 1", "line 1: YAML anchors"),
            ("a: *x", "line 1: YAML anchors"),
            ("a: !!python/object 1", "line 1: YAML tags"),
            ("a: |\n  text", "line 1: block scalars"),
            ("a: {b: 1}", "line 1: flow mappings"),
            ("a: [1, [2]]", "line 1: nested flow"),
            ("a: [1, 2", "line 1: a flow list must end"),
            ("a: [1,, 2]", "line 1: an empty item"),
            ("a: \"open", "line 1: a quoted string must end"),
            ("a: 'x' y", "line 1: text after the closing quote"),
            ("a: b: c", "line 1: ': ' inside a plain value"),
            ("a:\n\tb: 1", "line 2: a tab in the indentation"),
            ("a: 1\n---\nb: 2", "line 2: a second YAML document"),
            ("%YAML 1.1\na: 1", "line 1: YAML directives"),
            ("a: 99999999999999999999", "line 1: the integer"),
            ("a: \"\\q\"", "line 1: unknown escape"),
            ("a:\n- 1\nb", "line 3: expected 'key: value'"),
            ("a: 1\n- 2", "line 2: a list item where a mapping key"),
            ("a: - 1", "line 1: a list must start on the line after its key"),
            ("a: \u{01}", "line 1: control character"),
            ("? a\n: b", "line 1: '?' cannot start"),
        ]
        for (text, message) in cases {
            do {
                _ = try Self.parse(text)
                Issue.record("accepted: \(text)")
            } catch let e as TRMError {
                #expect(e.message.contains(message), "\(text): \(e.message)")
            }
        }
        #expect(throws: TRMError.self) { try YAML.parse([0x61, 0x3A, 0x20, 0xFF]) }
    }

    @Test func capsOnSizeAndDepth() throws {
        let deep = (0..<40).map { String(repeating: "  ", count: $0) + "k\($0):" }.joined(separator: "\n") + " 1"
        let tooDeep = #expect(throws: TRMError.self) { try Self.parse(deep) }
        #expect(tooDeep?.message.contains("nested deeper than 32") == true)
        let shallow = (0..<20).map { String(repeating: "  ", count: $0) + "k\($0):" }.joined(separator: "\n") + " 1"
        #expect(try Self.parse(shallow).mapping != nil)
        let big = [UInt8](repeating: 0x23, count: YAML.maxBytes + 1)
        let tooBig = #expect(throws: TRMError.self) { try YAML.parse(big) }
        #expect(tooBig?.message.contains("over the limit") == true)
        let dir = try OfficialRun.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("a: 1\nb: [\n".utf8).write(to: URL(fileURLWithPath: dir + "/bad.yaml"))
        let e = #expect(throws: TRMError.self) { try YAML.read(path: dir + "/bad.yaml") }
        #expect(e?.message == "\(dir)/bad.yaml: YAML line 2: a flow list must end with ']' on its line")
    }
}
