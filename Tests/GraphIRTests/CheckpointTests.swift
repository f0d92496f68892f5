import Foundation
import Testing
import TestSupport
@testable import GraphIR
import TRMCore

@Suite struct CheckpointTests {
    static func smallCheckpoint() throws -> Checkpoint {
        var o = ConfigOverrides()
        o.hidden = 16
        o.heads = 2
        o.headdim = 8
        o.dState = 4
        let config = try o.apply(to: Preset.trMamba2Attn.config(task: .sudoku, grid: 4))
        var tensors: [String: NamedTensor] = [:]
        for (i, s) in config.parameterSpecs.enumerated() {
            tensors[s.name] = NamedTensor(name: s.name, shape: s.shape, values: SampleGraphs.values(s.count, seed: UInt64(i)))
        }
        return Checkpoint(
            config: config, taskJSON: TaskKind.sudoku.taskJSON(grid: 4), identifiers: ["x|||t0|||0123456789"],
            trainJSON: #"{"step":3}"#, tensors: tensors)
    }

    @Test func roundTrip() throws {
        let c = try Self.smallCheckpoint()
        let bytes = try c.serialize()
        #expect(try Checkpoint.parse(bytes) == c)
        // The header is padded to 8 bytes, as safetensors writes it.
        let n = bytes[0..<8].enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
        #expect(n % 8 == 0)
    }

    @Test func referencePrefixesAreStripped() throws {
        let c = try Self.smallCheckpoint()
        let tensors = c.config.parameterSpecs.map { s in
            NamedTensor(name: "_orig_mod.model.inner." + s.name, shape: s.shape, values: c.tensors[s.name]!.values)
        }
        let bytes = Safetensors.serialize(tensors, metadata: ["trm.format": "trm-ckpt/1", "trm.config": c.config.jsonString()])
        #expect(try Checkpoint.parse(bytes).tensors == c.tensors)
    }

    @Test func halfPrecisionTensorsAreWidened() throws {
        // {"t":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},"u":{"dtype":"F16",...}}
        let header = #"{"t":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},"u":{"dtype":"F16","shape":[1],"data_offsets":[4,6]}}"#
        var bytes = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Array($0) } + Array(header.utf8)
        bytes += [0x80, 0x3F, 0x00, 0xC0]  // bf16 1.0, -2.0
        bytes += [0x00, 0x38]  // f16 0.5
        let (tensors, _) = try Safetensors.parse(bytes)
        #expect(tensors.map(\.values) == [[1, -2], [0.5]])
    }

    @Test func malformedFilesAreRefused() throws {
        let good = try Self.smallCheckpoint().serialize()
        func header(_ json: String, data: Int = 16) -> [UInt8] {
            withUnsafeBytes(of: UInt64(json.utf8.count).littleEndian) { Array($0) } + Array(json.utf8) + [UInt8](repeating: 0, count: data)
        }
        let cases: [[UInt8]] = [
            [], [1, 2, 3], Array(good[0..<8]),
            [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F] + Array(good[8...]),  // huge header length
            header("not json"), header("[1,2]"),
            header(#"{"t":{"dtype":"F32","shape":[4],"data_offsets":[0,17]}}"#),  // past the end
            header(#"{"t":{"dtype":"F32","shape":[4],"data_offsets":[8,4]}}"#),  // reversed
            header(#"{"t":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}"#),  // shape/size mismatch
            header(#"{"t":{"dtype":"X9","shape":[4],"data_offsets":[0,16]}}"#),  // unknown dtype
            header(#"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"u":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#),
            header(#"{"t":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}}"#),
            header(#"{"t":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}}"#),
            header(#"{"__metadata__":{"trm.format":"trm-ckpt/1"},"t":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#),
            header(#"{"__metadata__":{"trm.format":"other"}}"#),
            header(#"{"t":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#),  // no trm metadata
        ]
        for bytes in cases {
            #expect(throws: TRMError.self) { try Checkpoint.parse(bytes) }
        }
        var rng = SeededRandom(seed: 3)
        for cut in stride(from: 0, to: good.count, by: max(1, good.count / 1500)) {
            #expect(throws: TRMError.self) { try Checkpoint.parse(Array(good[0..<cut])) }
            var flipped = good
            let i = Int(rng.next() % UInt64(min(good.count, 8 + 2000)))
            flipped[i] ^= UInt8(1 << (rng.next() % 8))
            _ = try? Checkpoint.parse(flipped)  // must not crash; may parse if the flip hit data
        }
    }

    @Test func configMismatchesAreRefused() throws {
        let c = try Self.smallCheckpoint()
        var missing = c
        missing.tensors.removeValue(forKey: "lm_head.weight")
        #expect(throws: TRMError.self) {
            try Checkpoint.parse(
                Safetensors.serialize(
                    Array(missing.tensors.values), metadata: ["trm.format": "trm-ckpt/1", "trm.config": c.config.jsonString()]))
        }
        var wrong = c
        wrong.tensors["lm_head.weight"]!.shape = [c.config.hidden, c.config.vocab]
        #expect(throws: TRMError.self) { try wrong.serialize() }
        var extra = c
        extra.tensors["bogus"] = NamedTensor(name: "bogus", shape: [1], values: [0])
        #expect(throws: TRMError.self) { try extra.validate() }
    }
}
