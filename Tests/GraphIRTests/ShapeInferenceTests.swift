import Testing
import TestSupport
@testable import GraphIR
import TRMCore

@Suite struct ShapeInferenceTests {
    let f = { (dims: [Int]) in TensorType(.float32, Shape(batched: dims)) }
    let w = { (dims: [Int]) in TensorType(.float32, Shape(fixed: dims)) }

    @Test func everyOpGraphVerifies() throws {
        let g = try SampleGraphs.everyOp()
        let types = try Verifier.verify(g)
        #expect(types["y"] == f([6, 8]))
        #expect(types["pred"] == TensorType(.int32, Shape(batched: [6])))
        // The sample really covers every op: `OpKind` lists them all, and `Op.kind` is exhaustive, so
        // an op added to the enum fails here until the sample uses it.
        #expect(Set(g.nodes.map(\.op.kind)) == Set(OpKind.allCases))
        #expect(g.nodes.contains { $0.op == .matMul(epilogue: .swiGLU) })
    }

    @Test func matMulShapes() throws {
        #expect(try Op.matMul(epilogue: .none).inferTypes([f([5, 8]), w([3, 8])]) == [f([5, 3])])
        #expect(try Op.matMul(epilogue: .swiGLU).inferTypes([f([5, 8]), w([6, 8])]) == [f([5, 3])])
        #expect(throws: TRMError.self) { try Op.matMul(epilogue: .none).inferTypes([f([5, 7]), w([3, 8])]) }
        #expect(throws: TRMError.self) { try Op.matMul(epilogue: .none).inferTypes([f([5, 8]), f([3, 8])]) }
        #expect(throws: TRMError.self) { try Op.matMul(epilogue: .none).inferTypes([f([5, 8]), w([3, 8]), w([4])]) }
        #expect(throws: TRMError.self) { try Op.matMul(epilogue: .swiGLU).inferTypes([f([5, 8]), w([3, 8])]) }
    }

    @Test func broadcastRules() throws {
        #expect(try Op.add.inferTypes([f([4, 8]), w([8])]) == [f([4, 8])])
        #expect(try Op.add.inferTypes([f([4, 8]), w([4, 8])]) == [f([4, 8])])
        #expect(throws: TRMError.self) { try Op.add.inferTypes([f([4, 8]), w([4])]) }
        #expect(throws: TRMError.self) { try Op.mul.inferTypes([f([4, 8]), f([4, 9])]) }
    }

    @Test func layoutOps() throws {
        #expect(try Op.transpose(perm: [0, 2, 1]).inferTypes([f([4, 8])]) == [f([8, 4])])
        #expect(throws: TRMError.self) { try Op.transpose(perm: [1, 0, 2]).inferTypes([f([4, 8])]) }
        #expect(throws: TRMError.self) { try Op.transpose(perm: [0, 0, 1]).inferTypes([f([4, 8])]) }
        #expect(try Op.concat(axis: 1).inferTypes([f([4, 8]), f([2, 8])]) == [f([6, 8])])
        #expect(throws: TRMError.self) { try Op.concat(axis: 0).inferTypes([f([4, 8]), f([4, 8])]) }
        #expect(throws: TRMError.self) { try Op.concat(axis: 1).inferTypes([f([4, 8]), f([4, 7])]) }
        #expect(try Op.slice(axis: 1, start: 1, end: 3).inferTypes([f([4, 8])]) == [f([2, 8])])
        #expect(throws: TRMError.self) { try Op.slice(axis: 1, start: 3, end: 9).inferTypes([f([4, 8])]) }
        #expect(throws: TRMError.self) { try Op.slice(axis: 0, start: 0, end: 1).inferTypes([f([4, 8])]) }
        #expect(try Op.reshape(shape: [32]).inferTypes([f([4, 8])]) == [f([32])])
        #expect(throws: TRMError.self) { try Op.reshape(shape: [31]).inferTypes([f([4, 8])]) }
        #expect(try Op.pad(axis: 1, after: 12).inferTypes([f([4])]) == [f([16])])
        #expect(try Op.argmax.inferTypes([f([4, 8])]) == [TensorType(.int32, Shape(batched: [4]))])
    }

    @Test func sequenceOps() throws {
        #expect(try Op.fusedAttention(heads: 2, headDim: 4).inferTypes([f([6, 24]), w([6, 4]), w([6, 4])]) == [f([6, 8])])
        #expect(throws: TRMError.self) { try Op.fusedAttention(heads: 2, headDim: 4).inferTypes([f([6, 24]), w([5, 4]), w([6, 4])]) }
        #expect(throws: TRMError.self) { try Op.attention(heads: 2, headDim: 4).inferTypes([f([6, 8]), f([6, 8]), f([5, 8])]) }
        let m = Mamba2Dims(heads: 16, headDim: 64, dState: 128, groups: 1)
        #expect(m.inProjWidth == 2320 && m.convChannels == 1280)
        let ins = [f([916, 2320]), w([1280, 1, 4]), w([1280]), w([16]), w([16]), w([16]), w([1024])]
        #expect(try Op.mamba2ScanGate(m, convKernel: 4, eps: 1e-5).inferTypes(ins) == [f([916, 1024])])
        var bad = ins
        bad[6] = w([1023])
        #expect(throws: TRMError.self) { try Op.mamba2ScanGate(m, convKernel: 4, eps: 1e-5).inferTypes(bad) }
        #expect(throws: TRMError.self) { try Op.gatedRMSNorm(groupSize: 3, eps: 1e-5).inferTypes([f([2, 8]), f([2, 8]), w([8])]) }
    }

    @Test func verifierRejectsBrokenGraphs() throws {
        let good = try SampleGraphs.tiny()
        var dangling = good
        dangling.nodes[0].inputs[0] = "nope"
        #expect(throws: TRMError.self) { try Verifier.verify(dangling) }
        var twice = good
        twice.nodes.append(twice.nodes[0])
        #expect(throws: TRMError.self) { try Verifier.verify(twice) }
        var wrongOut = good
        wrongOut.outputs[0].type = f([3])
        #expect(throws: TRMError.self) { try Verifier.verify(wrongOut) }
        var badInit = good
        badInit.initializers[0].dims = [3, 3]
        #expect(throws: TRMError.self) { try Verifier.verify(badInit) }
        var batchInside = good
        batchInside.inputs[0].type = TensorType(.float32, Shape([.fixed(2), .batch]))
        #expect(throws: TRMError.self) { try Verifier.verify(batchInside) }
        var huge = good
        huge.inputs[0].type = TensorType(.float32, Shape(batched: [1 << 30, 1 << 30]))
        #expect(throws: TRMError.self) { try Verifier.verify(huge) }
    }

    @Test func opAttributesRoundTrip() throws {
        for node in try SampleGraphs.everyOp().nodes {
            let attrs = Dictionary(uniqueKeysWithValues: node.op.attributes.map { ($0.name, $0.value) })
            #expect(try Op(name: node.op.name, attributes: attrs) == node.op)
        }
        #expect(throws: TRMError.self) { try Op(name: "Frobnicate", attributes: [:]) }
        #expect(throws: TRMError.self) { try Op(name: "Scale", attributes: [:]) }
        #expect(throws: TRMError.self) { try Op(name: "Scale", attributes: ["factor": .int(1)]) }
        #expect(throws: TRMError.self) { try Op(name: "Add", attributes: ["x": .int(1)]) }
        #expect(throws: TRMError.self) { try Op(name: "Conv1dCausal", attributes: ["reverse": .int(2)]) }
    }
}
