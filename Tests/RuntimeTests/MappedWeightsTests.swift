import Foundation
import GraphIR
import Runtime
import Testing
import TestSupport
import TRMCore

/// The loader uses weights in a mapped sidecar in place (docs/formats.md §2.5), copies those it
/// cannot use where they are, and answers as the inline model does.
@Suite struct MappedWeightsTests {
    static func output(_ model: LoadedModel) throws -> [Float] {
        let session = try Session(model: model, batch: 2, threads: 1)
        try session.setInput("x", floats: [1, -2, 0.5, 3, 0.25, -1])
        try session.step()
        return session.floats("y")
    }

    @Test func mappedWeightsAreUsedInPlace() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mapped-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let graph = try SampleGraphs.tiny()
        let model = TrmgModel(graph: graph, plan: try Self.plan(graph))
        try TrmgWriter.write(model, to: dir + "/t.trmg", externalThreshold: 0)
        var mapped: LoadedModel? = try LoadedModel(path: dir + "/t.trmg")
        let inline = try LoadedModel(model)
        #expect(mapped?.mappedWeightBytes == 24 && inline.mappedWeightBytes == 0)
        // A session keeps the model, and so the mapping, after the caller lets go of it.
        let session = try Session(model: mapped!, batch: 2, threads: 1)
        mapped = nil
        try session.setInput("x", floats: [1, -2, 0.5, 3, 0.25, -1])
        try session.step()
        #expect(session.floats("y") == (try Self.output(inline)))

        // A mapped tensor that is not 64-byte aligned (no trm file has one) is copied, not refused.
        let values: [Float] = [1, 2, 3, 4, 5, 6]
        try Data([UInt8](repeating: 0, count: 4) + values.withUnsafeBytes { [UInt8]($0) }).write(to: URL(fileURLWithPath: dir + "/raw"))
        let file = try MappedFile(path: dir + "/raw")
        var odd = model
        odd.graph.initializers[0].data = .mapped(.float32, file.bytes(offset: 4, count: 24)!)
        let copied = try LoadedModel(odd)
        #expect(copied.mappedWeightBytes == 0)
        #expect(try Self.output(copied) == (try Self.output(inline)))
    }

    /// The tiny graph's plan: x and y, each in its own 64-byte slot.
    static func plan(_ graph: Graph) throws -> ModelPlan {
        ModelPlan(
            arenaBytesPerSample: 128, naiveBytesPerSample: 128,
            placements: [
                ValuePlacement(name: "x", offset: 0, bytesPerSample: 64), ValuePlacement(name: "y", offset: 64, bytesPerSample: 64),
            ])
    }
}
