import Foundation
import Testing
import TestSupport
@testable import GraphIR
import TRMCore

@Suite struct TrmgFileTests {
    static func sampleModel() throws -> TrmgModel {
        let plan = ModelPlan(
            configJSON: #"{"hidden":8}"#, taskJSON: #"{"task":"arc"}"#, haltMaxSteps: 16,
            carry: [CarryBinding(from: "y", to: "z", initial: "gain")],
            arenaBytesPerSample: 4096, naiveBytesPerSample: 65536, workspaceBytes: 128,
            placements: [ValuePlacement(name: "y", offset: 64, bytesPerSample: 192)],
            identifiers: ["a|||t0|||0123456789", "b"])
        return TrmgModel(graph: try SampleGraphs.everyOp(), plan: plan, metadata: ["trm.preset": "test", "a": "b"])
    }

    @Test func roundTripIsIdentical() throws {
        let model = try Self.sampleModel()
        let bytes = try TrmgWriter.serialize(model)
        let back = try TrmgReader.parse(bytes)
        #expect(back == model)
        #expect(try TrmgWriter.serialize(back) == bytes)
    }

    @Test func fileRoundTripAndAtomicWrite() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trmg-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try Self.sampleModel()
        try TrmgWriter.write(model, to: dir + "/m.trmg")
        #expect(try TrmgReader.read(path: dir + "/m.trmg") == model)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["m.trmg"])
        #expect(throws: TRMError.self) { try TrmgWriter.write(model, to: dir + "/missing/m.trmg") }
        #expect(throws: TRMError.self) { try TrmgReader.read(path: dir + "/absent.trmg") }
    }

    @Test func writerRefusesInvalidGraph() throws {
        var model = try Self.sampleModel()
        model.graph.nodes[3].inputs = ["nope"]
        #expect(throws: TRMError.self) { try TrmgWriter.serialize(model) }
    }

    @Test func emptyAndRandomBytesAreRefused() throws {
        #expect(throws: TRMError.self) { try TrmgReader.parse([]) }
        var rng = SeededRandom(seed: 7)
        for n in [1, 2, 7, 64, 1000, 100_000] {
            let junk = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            #expect(throws: TRMError.self) { try TrmgReader.parse(junk) }
        }
    }

    @Test func everyTruncationIsRefused() throws {
        let bytes = try TrmgWriter.serialize(Self.sampleModel())
        // Every prefix is either an invalid protobuf or a model missing required parts; none may crash.
        var refused = 0
        for cut in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 3000)) {
            do {
                _ = try TrmgReader.parse(Array(bytes[0..<cut]))
            } catch is TRMError {
                refused += 1
            }
        }
        #expect(refused > 0)
        // Cutting off the end removes the plan (field 99 is written last): always refused.
        #expect(throws: TRMError.self) { try TrmgReader.parse(Array(bytes.dropLast())) }
    }

    @Test func bitFlipsNeverCrash() throws {
        let bytes = try TrmgWriter.serialize(Self.sampleModel())
        var rng = SeededRandom(seed: 11)
        var parsed = 0
        for _ in 0..<3000 {
            var b = bytes
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let i = Int(rng.next() % UInt64(b.count))
                b[i] ^= UInt8(1 << (rng.next() % 8))
            }
            // A flip inside weight data still parses; anything else must verify or be refused.
            if let m = try? TrmgReader.parse(b) {
                try Verifier.verify(m.graph)
                parsed += 1
            }
        }
        #expect(parsed < 3000)
    }

    @Test func hostileContentsAreRefused() throws {
        let model = try Self.sampleModel()
        func refused(_ mutate: (inout TrmgModel) -> Void) throws {
            var m = model
            mutate(&m)
            let bytes = try TrmgWriter.serialize(m, verify: false)
            #expect(throws: TRMError.self) { try TrmgReader.parse(bytes) }
        }
        try refused { $0.graph.inputs[1].type = TensorType(.float32, Shape(batched: [1 << 31, 1 << 31, 1 << 31])) }
        try refused { $0.graph.inputs[1].type = TensorType(.float32, Shape(batched: [6, 9])) }
        try refused { $0.graph.initializers[0].dims = [1 << 40] }
        try refused { $0.graph.initializers[0].dims = [5, 9] }
        try refused { $0.graph.nodes[5].inputs[0] = "dangling" }
        try refused { $0.graph.nodes[4].op = .reshape(shape: [7]) }
        try refused { $0.graph.outputs.append(ValueInfo("never", TensorType(.float32, Shape(batched: [1])))) }
        try refused { $0.plan.arenaBytesPerSample = -1 }
        try refused { $0.plan.haltMaxSteps = Int(Int64.max) }
    }

    @Test func unknownOpIsRefused() throws {
        var bytes = try TrmgWriter.serialize(Self.sampleModel())
        // Rename every "Sigmoid" op_type to "Sigmoix" (same length, so the protobuf stays well formed).
        let needle = Array("Sigmoid".utf8)
        for i in 0..<(bytes.count - needle.count) where Array(bytes[i..<(i + needle.count)]) == needle {
            bytes[i + needle.count - 1] = UInt8(ascii: "x")
        }
        #expect(throws: TRMError.self) { try TrmgReader.parse(bytes) }
    }

    /// Writes the fixtures that `tools/tests` checks with onnx, and checks them: every run writes them
    /// (into TRM_FIXTURES, or a temporary directory when it is unset), so this test never skips.
    @Test func writeInteropFixtures() throws {
        try InteropFixtures.withDirectory { dir in
            try InteropFixtures.write(Self.sampleModel(), "every_op.trmg", in: dir)
            try InteropFixtures.write(TrmgModel(graph: SampleGraphs.tiny()), "tiny.trmg", in: dir)
        }
    }
}

/// Where the fixture-writing tests put the `.trmg` files tools/tests reads (tools/tests/conftest.py):
/// the directory TRM_FIXTURES names (`make test-swift` and `make fixtures` set it), or else a fresh
/// temporary directory removed afterwards. Either way the files are written and read back, so a
/// writer test checks something on every run instead of passing without doing anything.
enum InteropFixtures {
    static func withDirectory(_ body: (String) throws -> Void) throws {
        let fm = FileManager.default
        let configured = ProcessInfo.processInfo.environment["TRM_FIXTURES"].flatMap { $0.isEmpty ? nil : $0 }
        let dir = configured ?? fm.temporaryDirectory.appendingPathComponent("trm-fixtures-\(UUID())").path
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { if configured == nil { try? fm.removeItem(atPath: dir) } }
        try body(dir)
    }

    /// Writes `model` to `dir/name`, then checks the file holds exactly its serialisation and parses
    /// back to the same model.
    static func write(_ model: TrmgModel, _ name: String, in dir: String) throws {
        let path = dir + "/" + name
        try TrmgWriter.write(model, to: path)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(!bytes.isEmpty, "\(path) is empty")
        #expect(bytes == (try TrmgWriter.serialize(model)), "\(path) is not the model's serialisation")
        #expect(try TrmgReader.parse(bytes) == model, "\(path) does not read back as the model written")
    }
}
