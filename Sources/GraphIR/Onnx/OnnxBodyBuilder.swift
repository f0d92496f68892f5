/// Appends standard-domain nodes to a function body (or a Scan body), inventing value names.
/// Names are a prefix and a counter, so the same sequence of calls always gives the same body.
/// Nodes are named after the compositions they are part of and their op
/// (`gated_rms_norm.silu.Sigmoid_7`), unique in the body.
struct OnnxBodyBuilder {
    private(set) var nodes: [OnnxNode] = []
    private var counter = 0
    /// Scan bodies use their own prefix: ONNX forbids a subgraph from redefining an outer name.
    private let prefix: String
    /// The compositions being built, outermost first (`enter`, `leave`).
    private var labels: [String]

    init(prefix: String = "t", label: String? = nil) {
        self.prefix = prefix
        labels = label.map { [$0] } ?? []
    }

    /// Starts a composition: the nodes added until `leave` carry `label` in their names.
    mutating func enter(_ label: String) { labels.append(label) }
    mutating func leave() { labels.removeLast() }

    /// Adds a node and returns its `outputs` fresh output names.
    @discardableResult
    mutating func op(_ type: String, _ inputs: [String], _ attributes: [OnnxAttribute] = [], outputs: Int) -> [String] {
        let names = (0..<outputs).map { _ -> String in
            counter += 1
            return "\(prefix)\(counter)"
        }
        let name = (labels + ["\(type)_\(nodes.count + 1)"]).joined(separator: ".")
        nodes.append(OnnxNode(type, inputs: inputs, outputs: names, attributes: attributes, name: name))
        return names
    }

    /// Adds a single-output node and returns its output.
    mutating func one(_ type: String, _ inputs: [String], _ attributes: [OnnxAttribute] = []) -> String {
        op(type, inputs, attributes, outputs: 1)[0]
    }

    /// An int64 1-D constant (shapes, axes, slice bounds).
    mutating func ints(_ values: [Int]) -> String {
        one("Constant", [], [.ints("value_ints", values)])
    }

    /// An fp32 scalar constant.
    mutating func scalar(_ value: Float) -> String {
        one("Constant", [], [.float("value_float", value)])
    }

    /// An fp64 scalar constant, for table arithmetic that must be rounded to fp32 only at the end.
    mutating func double(_ value: Double) -> String {
        one("Constant", [], [OnnxAttribute("value", .tensor(OnnxTensor(dims: [], values: .float64([value]))))])
    }

    /// Gives `value` the name `name` (a function or subgraph output), wherever it is defined or read.
    mutating func rename(_ value: String, to name: String) {
        guard value != name else { return }
        guard nodes.contains(where: { $0.outputs.contains(value) }) else {
            // A body that passes an input through still needs a node to name the output.
            nodes.append(OnnxNode("Identity", inputs: [value], outputs: [name], name: "Identity_\(nodes.count + 1)"))
            return
        }
        for i in nodes.indices {
            nodes[i].inputs = nodes[i].inputs.map { $0 == value ? name : $0 }
            nodes[i].outputs = nodes[i].outputs.map { $0 == value ? name : $0 }
        }
    }

    // MARK: small compositions

    /// `x[start ..< end]` along `axis`.
    mutating func slice(_ x: String, axis: Int, start: Int, end: Int) -> String {
        one("Slice", [x, ints([start]), ints([end]), ints([axis])])
    }

    /// `x` reversed along `axis` (a Slice with step -1 from the last element past the first).
    mutating func flip(_ x: String, axis: Int) -> String {
        one("Slice", [x, ints([-1]), ints([Int(Int64.min)]), ints([axis]), ints([-1])])
    }

    mutating func reshape(_ x: String, _ shape: [Int]) -> String {
        one("Reshape", [x, ints(shape)])
    }

    mutating func transpose(_ x: String, _ perm: [Int]) -> String {
        one("Transpose", [x], [.ints("perm", perm)])
    }

    mutating func unsqueeze(_ x: String, _ axes: [Int]) -> String {
        one("Unsqueeze", [x, ints(axes)])
    }

    mutating func add(_ a: String, _ b: String) -> String { one("Add", [a, b]) }
    mutating func mul(_ a: String, _ b: String) -> String { one("Mul", [a, b]) }

    /// `x · sigmoid(x)`.
    mutating func silu(_ x: String) -> String {
        enter("silu")
        defer { leave() }
        return mul(x, one("Sigmoid", [x]))
    }

    /// The two halves of the last axis.
    mutating func halves(_ x: String) -> (String, String) {
        let h = op("Split", [x], [.int("axis", -1), .int("num_outputs", 2)], outputs: 2)
        return (h[0], h[1])
    }

    /// `silu(first half) ⊙ second half` of the last axis.
    mutating func swiGLU(_ x: String) -> String {
        enter("swiglu")
        defer { leave() }
        let (g, u) = halves(x)
        return mul(silu(g), u)
    }

    /// `x / sqrt(mean(x², last axis) + eps)`.
    mutating func rmsNorm(_ x: String, eps: Float) -> String {
        enter("rms_norm")
        defer { leave() }
        let meanSquare = one("ReduceMean", [mul(x, x), ints([-1])], [.int("keepdims", 1)])
        return one("Div", [x, one("Sqrt", [add(meanSquare, scalar(eps))])])
    }
}
