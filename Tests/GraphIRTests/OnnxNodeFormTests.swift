import Testing
import TestSupport
@testable import GraphIR
import TRMCore

/// How nodes are written (docs/formats.md §2.1): standard ops in the default domain with their int64
/// operands, the others in `ai.trm` under a type that says what they are; and read back, including
/// the all-`ai.trm` form of files written before.
@Suite struct OnnxNodeFormTests {
    /// The ONNX (domain, op_type) of every op.
    @Test func domainsAndTypes() throws {
        let standard: Set<OpKind> = [.gather, .add, .mul, .transpose, .concat, .slice, .reshape, .pad, .softplus, .exp, .sigmoid]
        let graph = try SampleGraphs.everyOp()
        #expect(Set(graph.nodes.map(\.op.kind)) == Set(OpKind.allCases))
        for node in graph.nodes {
            let form = OnnxNodeForm(node.op, batched: true)
            if standard.contains(node.op.kind) {
                #expect(form.domain == "" && form.opType == node.op.name, "\(node.op)")
            } else if case .matMul(let e) = node.op {
                #expect(form.domain == "ai.trm" && form.opType == (e == .none ? "Linear" : "LinearSwiGLU"))
                #expect(form.attributes.isEmpty)
            } else {
                #expect(form.domain == "ai.trm" && form.opType == node.op.name, "\(node.op)")
            }
        }
    }

    /// Every form reads back as the op it was written from.
    @Test func formsReadBack() throws {
        let graph = try SampleGraphs.everyOp()
        let types = try Verifier.verify(graph)
        for node in graph.nodes {
            let form = OnnxNodeForm(node.op, batched: types[node.inputs.first ?? ""]?.shape.isBatched ?? false)
            var operands: [String: [Int]] = [:]
            for case let o? in form.operands { operands["\(node.name).\(o.name)"] = o.values }
            let back = try read(form.domain, form.opType, form.attributes, form.inputs(of: node), operands)
            #expect(back.op == node.op && back.inputs == node.inputs, "\(node.op)")
        }
        let reshape = try read("", "Reshape", [], ["x", "s"], ["s": [0, 6, 8]])
        #expect(reshape.op == .reshape(shape: [6, 8]) && reshape.batched == true)
        #expect(try read("", "Reshape", [], ["w", "s"], ["s": [2, 4]]).batched == false)
    }

    /// The nodes of files written before the standard domain.
    @Test func legacyFormsRead() throws {
        let attributes: (String) -> [String: AttributeValue] = { ["epilogue": .string($0)] }
        #expect(
            try OnnxNodeForm.op(domain: "ai.trm", opType: "MatMul", attributes: attributes("swiGLU"), inputs: ["x", "w"]) { _ in nil }.op
                == .matMul(epilogue: .swiGLU))
        let slice = try OnnxNodeForm.op(
            domain: "ai.trm", opType: "Slice", attributes: ["axis": .int(2), "start": .int(0), "end": .int(4)], inputs: ["x"]
        ) { _ in nil }
        #expect(slice.op == .slice(axis: 2, start: 0, end: 4) && slice.inputs == ["x"])
    }

    /// Standard nodes in a form trm does not write are refused.
    @Test func foreignFormsAreRefused() {
        let c: [String: [Int]] = ["one": [1], "two": [2], "axis": [2], "pads": [0, 2], "both": [1, 2]]
        let cases: [(String, String, [OnnxAttribute], [String])] = [
            ("", "Slice", [], ["x", "one", "two", "axis", "one"]),  // a step
            ("", "Slice", [], ["x", "one", "x", "axis"]),  // a bound that is not a constant
            ("", "Pad", [], ["x", "both", "", "axis"]),  // padding in front
            ("", "Pad", [OnnxAttribute("mode", .string("reflect"))], ["x", "pads", "", "axis"]),
            ("", "Gather", [.int("axis", 1)], ["t", "i"]),
            ("", "Reshape", [.int("allowzero", 1)], ["x", "axis"]),
            ("", "Add", [], ["x", "one"]),  // an int64 operand where a tensor is read
            ("", "MatMul", [], ["x", "w"]),  // ONNX MatMul is not trm's Linear
            ("", "Sigmoix", [], ["x"]),
            ("ai.trm", "Linear", [OnnxAttribute("epilogue", .string("none"))], ["x", "w"]),
            ("com.other", "Add", [], ["x", "y"]),
        ]
        for (domain, type, attributes, inputs) in cases {
            #expect(throws: TRMError.self, "\(type) \(inputs)") { try read(domain, type, attributes, inputs, c) }
        }
    }

    private func read(
        _ domain: String, _ type: String, _ attributes: [OnnxAttribute], _ inputs: [String], _ operands: [String: [Int]]
    ) throws -> (op: Op, inputs: [String], batched: Bool?) {
        var values: [String: AttributeValue] = [:]
        for a in attributes {
            switch a.value {
            case .int(let i): values[a.name] = .int(i)
            case .float(let f): values[a.name] = .float(f)
            case .ints(let v): values[a.name] = .ints(v)
            case .string(let s): values[a.name] = .string(s)
            default: Issue.record("attribute kind")
            }
        }
        return try OnnxNodeForm.op(domain: domain, opType: type, attributes: values, inputs: inputs) { operands[$0] }
    }
}
