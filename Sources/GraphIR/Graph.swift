/// A named, typed graph value (graph input or output).
public struct ValueInfo: Hashable, Sendable {
    public var name: String
    public var type: TensorType

    public init(_ name: String, _ type: TensorType) {
        self.name = name
        self.type = type
    }
}

/// A constant tensor stored in the graph (a weight or a folded table). Unbatched.
public struct Initializer: Hashable, Sendable {
    public var name: String
    public var dims: [Int]
    public var data: TensorData

    public init(name: String, dims: [Int], data: TensorData) {
        self.name = name
        self.dims = dims
        self.data = data
    }

    public init(name: String, dims: [Int], floats: [Float]) {
        self.init(name: name, dims: dims, data: .float32(floats))
    }

    public var type: TensorType { TensorType(data.dtype, Shape(fixed: dims)) }
}

/// One operation applied to named values, producing named values.
public struct Node: Hashable, Sendable {
    public var name: String
    public var op: Op
    public var inputs: [String]
    public var outputs: [String]

    public init(_ name: String, _ op: Op, inputs: [String], outputs: [String]) {
        self.name = name
        self.op = op
        self.inputs = inputs
        self.outputs = outputs
    }
}

/// A static graph: nodes in execution order over named values. Each value is written once (by a
/// graph input, an initializer or one node output) and read by name.
public struct Graph: Hashable, Sendable {
    public var name: String
    public var inputs: [ValueInfo]
    public var outputs: [ValueInfo]
    public var initializers: [Initializer]
    public var nodes: [Node]

    public init(
        name: String, inputs: [ValueInfo], outputs: [ValueInfo],
        initializers: [Initializer] = [], nodes: [Node] = []
    ) {
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.initializers = initializers
        self.nodes = nodes
    }

    /// The initializer called `name`, if any.
    public func initializer(named name: String) -> Initializer? {
        initializers.first { $0.name == name }
    }

    /// How many nodes use each op name, for summaries.
    public var opHistogram: [String: Int] {
        nodes.reduce(into: [:]) { $0[$1.op.name, default: 0] += 1 }
    }
}
