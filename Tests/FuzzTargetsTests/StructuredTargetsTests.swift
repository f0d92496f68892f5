import Foundation
import GraphIR
import Runtime
import Testing
@testable import FuzzTargets

/// The structure-aware targets' interpreter: programs mean what their explanations say, the
/// mutated files are what the programs describe, and mutations reach the checks behind the parsers.
struct StructuredTargetsTests {
    static func int(_ v: Int64) -> UInt8 { UInt8(Interesting.ints.firstIndex(of: v)!) }
    static func json(_ s: String) -> UInt8 { UInt8(Interesting.json.firstIndex(of: s)!) }
    static func key(_ k: String...) -> UInt8 { UInt8(JSONDoc.keys.firstIndex(of: k)!) }
    /// ckpt-config opcodes after the config mutations.
    static let refit = UInt8(JSONDoc.configOps), identifiers = UInt8(JSONDoc.configOps + 1)

    @Test func baseConfigDocumentsParseBackToTheirConfigs() throws {
        #expect(BaseModel.all.map(\.preset) == Preset.allCases)
        for base in BaseModel.all {
            #expect(try ModelConfig.parse(json: JSONDoc(base.config).text()) == base.config)
        }
    }

    @Test func documentEdits() {
        var d = JSONDoc(entries: [("a", .raw("1")), ("m", .object([("x", .raw("2"))]))])
        d.set(["a"], "3")
        d.set(["m", "y"], "4")
        d.duplicate(["a"], "5")
        d.delete(["m", "x"])
        d.set(["n", "z"], "6")
        #expect(d.text() == #"{"a":3,"m":{"y":4},"a":5,"n":{"z":6}}"#)
        d.set(["a", "b"], "7")
        #expect(d.text() == #"{"a":{"b":7},"m":{"y":4},"a":5,"n":{"z":6}}"#)
        d.replacement = "[]"
        #expect(d.text() == "[]")
    }

    @Test func programsExplainThemselves() {
        let k = Self.key, i = Self.int
        #expect(
            FuzzTarget.ckptConfig.explain([0, 0, k("H_cycles"), i(1_000_000), Self.refit])
                == "base trm-attn\nconfig H_cycles = 1000000\nrefit tensors to the config\n(no refit: the config is refused or its tensors are too large)"
        )
        #expect(FuzzTarget.ckptConfig.explain([1, 4, k("mamba", "d_state")]) == "base tr-mamba2attn\nconfig delete mamba.d_state")
        #expect(FuzzTarget.trmgPlan.explain([4, 0, i(1_000_000)]) == "base trm-attn, 2 sample(s)\nhalt_max_steps = 1000000")
        #expect(FuzzTarget.trmgPlan.explain([0, 1, i(10 << 30)]) == "base trm-attn, 1 sample(s)\narena_bytes_per_sample = 10737418240")
        #expect(FuzzTarget.trmg.explain([1, 2, 3]) == "")
    }

    @Test func rawVarintsAndRelativeValues() {
        // An even selector past the table reads a varint: 150, then -1 (ten bytes).
        var p = FuzzProgram([0xfe, 0x96, 0x01, 0xfe] + [UInt8](repeating: 0xff, count: 9) + [0x01])
        #expect(Interesting.int(&p) == 150)
        #expect(Interesting.int(&p) == -1)
        // An odd one moves the current value by a signed byte (× 64 when aligned).
        var q = FuzzProgram([UInt8(Interesting.ints.count + 1), 0xfe])
        #expect(Interesting.int(&q, current: 1024, aligned: true) == 1024 - 128)
        #expect(q.isAtEnd && q.byte() == 0)
    }

    @Test func mutatedCheckpointIsWhatTheProgramSays() throws {
        var p = FuzzProgram([1, 0, Self.key("mamba", "direction"), Self.json("\"reverse\""), 0, Self.key("H_cycles"), Self.int(3)])
        let c = try Checkpoint.parse(FuzzTarget.mutatedCheckpoint(&p))
        #expect(c.config.mamba.direction == .reverse && c.config.hCycles == 3)
        #expect(c.config.hidden == BaseModel.all[1].config.hidden)
    }

    @Test func mutationsReachTheChecksBehindTheParsers() {
        let k = Self.key, i = Self.int
        #expect(FuzzTarget.ckptConfig.run([0]))
        #expect(!FuzzTarget.ckptConfig.run([0, 0, k("H_cycles"), i(0)]), "ModelConfig.validate refuses H_cycles = 0")
        #expect(!FuzzTarget.ckptConfig.run([0, 0, k("hidden"), i(64)]), "the tensors no longer match the config")
        #expect(FuzzTarget.ckptConfig.run([0, 0, k("hidden"), i(64), Self.refit]), "refitted tensors match")
        #expect(!FuzzTarget.ckptConfig.run([0, 4, k("vocab")]), "a required key is missing")
        #expect(!FuzzTarget.ckptConfig.run([0, 0, k("heads"), Self.json("\"2\"")]), "a string for an int")
        #expect(!FuzzTarget.ckptConfig.run([0, Self.identifiers, 2]), "2 identifiers for 1 puzzle id")
        #expect(FuzzTarget.trmgPlan.run([0]))
        #expect(!FuzzTarget.trmgPlan.run([0, 1, i(0)]), "no arena")
        #expect(!FuzzTarget.trmgPlan.run([0, 0, i(-1)]), "negative halt_max_steps")
        #expect(!FuzzTarget.trmgPlan.run([0, 8, 0]), "a value placed twice")
        #expect(!FuzzTarget.trmgPlan.run([0, 7, 0]), "a value without a place")
        #expect(!FuzzTarget.trmgPlan.run([0, 15, 0, k("H_cycles"), i(0)]), "the plan's config is validated too")
    }
}
