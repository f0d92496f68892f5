import Foundation
import Testing
import TestSupport
@testable import GraphIR
import TRMCore

/// The ONNX function bodies written with every `.trmg` (docs/formats.md §2). Their numerics are checked
/// against onnxruntime and a numpy reference in tools/tests/test_function_bodies.py.
@Suite struct OnnxFunctionTests {
    @Test func everyTrmOpGetsExactlyOneFunctionPerOverload() throws {
        let graph = try SampleGraphs.everyOp()
        let set = try OnnxFunctions.generate(for: graph)
        #expect(set.nodeOverloads.count == graph.nodes.count)
        // The batch flag only changes a Reshape's operand, never whether an op is standard.
        let forms = graph.nodes.map { OnnxNodeForm($0.op, batched: true) }
        #expect(Set(set.functions.map(\.name)) == Set(forms.filter { !$0.isStandard }.map(\.opType)))
        let keys = set.functions.map { "\($0.name)|\($0.overload ?? "")" }
        #expect(Set(keys).count == keys.count)
        // Every ai.trm node finds its body, no body is unused, and standard nodes have none.
        let used = zip(forms, set.nodeOverloads).filter { !$0.0.isStandard }.map { "\($0.opType)|\($1 ?? "")" }
        #expect(Set(used) == Set(keys))
        #expect(zip(forms, set.nodeOverloads).allSatisfy { !$0.isStandard || $1 == nil })
        // Each op of the sample has exactly one function, except Linear (with and without bias) and
        // Scale (two factors).
        let counts = Dictionary(grouping: set.functions, by: \.name).mapValues(\.count)
        for (name, n) in counts where !["Linear", "Scale"].contains(name) { #expect(n == 1, "\(name)") }
        #expect(counts["Linear"] == 2 && counts["LinearSwiGLU"] == 1)
        #expect(counts["Scale"] == 2)
    }

    @Test func bodiesAreWellFormedStandardOps() throws {
        for f in try OnnxFunctions.generate(for: SampleGraphs.everyOp()).functions {
            #expect(f.domain == "ai.trm")
            #expect(f.opsetImports == [OnnxOpset("", 23)])
            #expect(!f.nodes.isEmpty)
            // Every node is named, once.
            #expect(f.nodes.allSatisfy { $0.name?.isEmpty == false }, "\(f.name): an unnamed node")
            #expect(Set(f.nodes.compactMap(\.name)).count == f.nodes.count, "\(f.name): a node name twice")
            // Single assignment in order: every input is a function input, an earlier output or "".
            var defined = Set(f.inputs + [""])
            for n in f.nodes {
                #expect(n.domain == "", "\(f.name): \(n.opType)")
                for i in n.inputs { #expect(defined.contains(i), "\(f.name): \(n.opType) reads undefined '\(i)'") }
                for o in n.outputs { #expect(defined.insert(o).inserted, "\(f.name): '\(o)' defined twice") }
            }
            for o in f.outputs { #expect(defined.contains(o), "\(f.name): output '\(o)' never computed") }
        }
    }

    @Test func ssmScanUsesAScan() throws {
        let set = try OnnxFunctions.generate(for: SampleGraphs.everyOp())
        for name in ["SSMScan", "Mamba2ScanGate"] {
            let f = try #require(set.functions.first { $0.name == name })
            let scan = try #require(f.nodes.first { $0.opType == "Scan" })
            guard case .graph(let body)? = scan.attributes.first(where: { $0.name == "body" })?.value else {
                Issue.record("\(name): Scan has no body")
                continue
            }
            #expect(body.inputs.count == 5 && body.outputs.count == 2)
        }
    }

    @Test func overloadsSeparateWhatTheBodyDependsOn() throws {
        var b = GraphBuilder(name: "specialise")
        let x = try b.input("x", TensorType(.float32, Shape(batched: [2, 3])))
        let a = try b.add(.scale(factor: 0.5), [x])
        let c = try b.add(.scale(factor: 0.25), [a])
        let w = try b.constant("w", [2, 3], [1, 2, 3, 4, 5, 6])
        _ = try b.add(.matMul(epilogue: .none), [c, w], name: "plain")
        _ = try b.add(.matMul(epilogue: .none), [c, w, try b.constant("bias", [2], [1, 2])], name: "biased")
        _ = try b.add(.scale(factor: 0.5), [c], name: "again")
        _ = try b.add(.reshape(shape: [6]), [c], name: "flat")
        for name in ["plain", "biased", "again", "flat"] { try b.output(name) }
        let set = try OnnxFunctions.generate(for: try b.build())
        #expect(set.nodeOverloads == ["factor=0.5", "factor=0.25", "bias=0", "bias=1", "factor=0.5", nil])
        #expect(set.functions.map(\.name) == ["Linear", "Linear", "Scale", "Scale"])
    }

    @Test func generationAndFilesAreDeterministic() throws {
        let model = try TrmgFileTests.sampleModel()
        #expect(try OnnxFunctions.generate(for: model.graph) == OnnxFunctions.generate(for: model.graph))
        let bytes = try TrmgWriter.serialize(model)
        #expect(try TrmgWriter.serialize(model) == bytes)
        // The bodies are in the file, and survive a read and rewrite byte for byte.
        #expect(bytes.firstRange(of: Array("heads=2;head_dim=4;d_state=4;groups=1;reverse=1".utf8)) != nil)
        #expect(bytes.firstRange(of: Array("ssm_step".utf8)) != nil)
        #expect(try TrmgWriter.serialize(TrmgReader.parse(bytes)) == bytes)
        let tiny = try TrmgWriter.serialize(TrmgModel(graph: SampleGraphs.tiny()))
        #expect(try TrmgWriter.serialize(TrmgReader.parse(tiny)) == tiny)
    }

    @Test func malformedGraphsStillSerialiseForTests() throws {
        var model = try TrmgFileTests.sampleModel()
        model.graph.nodes[4].op = .reshape(shape: [7])
        model.graph.nodes[5].inputs[0] = "dangling"
        #expect(throws: TRMError.self) { try TrmgWriter.serialize(model) }
        let bytes = try TrmgWriter.serialize(model, verify: false)
        #expect(throws: TRMError.self) { try TrmgReader.parse(bytes) }
    }

    /// What `SampleGraphs.everyOp` leaves out: groups = 2, a reversed SSMScan and Conv1dCausal, a
    /// forward Mamba2ScanGate, a biased SwiGLU MatMul, a 4-way Concat and an unbatched Reshape.
    static func variants() throws -> Graph {
        var b = GraphBuilder(name: "onnx_variants")
        var seed: UInt64 = 100
        func w(_ name: String, _ dims: [Int], scale: Float = 0.5) throws -> String {
            seed += 1
            return try b.constant(name, dims, SampleGraphs.values(dims.reduce(1, *), seed: seed, scale: scale))
        }
        let u = try b.input("u", TensorType(.float32, Shape(batched: [7, 40])))
        let dims = Mamba2Dims(heads: 4, headDim: 2, dState: 3, groups: 2)  // E = 8, Cd = 20
        var reverse = dims
        reverse.reverse = true
        let zx = try b.add(.matMul(epilogue: .none), [u, try w("w_in", [32, 40]), try w("b_in", [32])])
        let a = try b.add(.scale(factor: -1), [try b.add(.exp, [try w("a_log", [4])])])
        let d = try w("d_skip", [4])
        var gates: [String] = []
        for (i, m) in [dims, reverse].enumerated() {
            gates.append(
                try b.add(
                    .mamba2ScanGate(m, convKernel: 4, eps: 1e-5),
                    [
                        zx, try w("conv_w\(i)", [20, 1, 4]), try w("conv_b\(i)", [20]),
                        try w("dt_bias\(i)", [4]), a, d, try w("norm_w\(i)", [8]),
                    ]))
        }
        let x = try b.add(.slice(axis: 2, start: 0, end: 8), [u])
        let dt = try b.add(.softplus, [try b.add(.slice(axis: 2, start: 8, end: 12), [u])])
        let bm = try b.add(.slice(axis: 2, start: 12, end: 18), [u])
        let cm = try b.add(.slice(axis: 2, start: 18, end: 24), [u])
        let y1 = try b.add(.ssmScan(dims), [x, dt, a, bm, cm, d])
        let y2 = try b.add(.ssmScan(reverse), [x, dt, a, bm, cm, d])
        let conv = try b.add(.conv1dCausal(reverse: true), [x, try w("c_w", [8, 1, 4]), try w("c_b", [8])])
        let norm = try b.add(.gatedRMSNorm(groupSize: 2, eps: 1e-5), [y1, y2, try w("n_w", [8])])
        let cat = try b.add(.concat(axis: 2), gates + [conv, norm])  // [B, 7, 32]
        let glu = try b.add(.matMul(epilogue: .swiGLU), [cat, try w("w_glu", [16, 32]), try w("b_glu", [16])])
        let table = try b.add(.reshape(shape: [2, 4]), [try w("r", [8])])  // unbatched
        let sum = try b.add(.add, [try b.add(.reshape(shape: [7, 2, 4]), [glu]), table])
        _ = try b.add(.reshape(shape: [7, 8]), [sum], name: "out")
        try b.output("out")
        return try b.build()
    }

    /// Writes `onnx_variants.trmg` for tools/tests/test_function_bodies.py (into TRM_FIXTURES, or a
    /// temporary directory when it is unset) and checks what it wrote.
    @Test func writeVariantFixture() throws {
        let graph = try Self.variants()
        let set = try OnnxFunctions.generate(for: graph)
        #expect(set.functions.contains { $0.overload == "heads=4;head_dim=2;d_state=3;groups=2;reverse=1" })
        try InteropFixtures.withDirectory { dir in
            try InteropFixtures.write(TrmgModel(graph: graph), "onnx_variants.trmg", in: dir)
        }
    }
}
