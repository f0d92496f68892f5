import TRMCore
/// Builds a graph node by node, inferring every value's type as it goes, so a mistake is reported
/// at the node that makes it. A node is named `<scope>.<role>` when it is given a role
/// (docs/formats.md §2.4), `<Op>_<n>` otherwise; a node's single output is named after the node
/// (`<node>.<k>` for several) unless its names are given.
public struct GraphBuilder {
    public private(set) var graph: Graph
    /// The inferred type of every value defined so far.
    public private(set) var types: [String: TensorType] = [:]
    /// Segments put in front of every role-named node (`["H1", "L2", "block0", "attn"]`).
    public var scope: [String] = []
    private var counter = 0
    private var nodeNames: Set<String> = []

    public init(name: String) {
        graph = Graph(name: name, inputs: [], outputs: [])
    }

    /// Declares a graph input.
    @discardableResult
    public mutating func input(_ name: String, _ type: TensorType) throws -> String {
        try define(name, type)
        graph.inputs.append(ValueInfo(name, type))
        return name
    }

    /// Adds a constant fp32 tensor.
    @discardableResult
    public mutating func constant(_ name: String, _ dims: [Int], _ values: [Float]) throws -> String {
        try constant(Initializer(name: name, dims: dims, floats: values))
    }

    /// Adds a constant tensor.
    @discardableResult
    public mutating func constant(_ initializer: Initializer) throws -> String {
        guard Shape(fixed: initializer.dims).elementsPerSample == initializer.data.count else {
            throw TRMError(.invalidGraph, "constant '\(initializer.name)': \(initializer.data.count) values for dims \(initializer.dims)")
        }
        try define(initializer.name, initializer.type)
        graph.initializers.append(initializer)
        return initializer.name
    }

    /// Appends a single-output node and returns its output's name. `role` names the node inside
    /// `scope`; `name` names its output.
    @discardableResult
    public mutating func add(_ op: Op, _ inputs: [String], role: String? = nil, name: String? = nil) throws -> String {
        try addNode(op, inputs, role: role, names: name.map { [$0] })[0]
    }

    /// Appends a node and returns its outputs' names (`names`, or generated ones).
    @discardableResult
    public mutating func addNode(_ op: Op, _ inputs: [String], role: String? = nil, names: [String]? = nil) throws -> [String] {
        counter += 1
        let nodeName = NodeNames.unique(role.map { (scope + [$0]).joined(separator: ".") } ?? "\(op.name)_\(counter)", in: nodeNames)
        nodeNames.insert(nodeName)
        let inputTypes = try inputs.map { n -> TensorType in
            guard let t = types[n] else { throw TRMError(.invalidGraph, "\(nodeName): unknown input '\(n)'") }
            return t
        }
        let outTypes: [TensorType]
        do { outTypes = try op.inferTypes(inputTypes) } catch let e as TRMError {
            throw TRMError(.invalidGraph, "\(nodeName): \(e.message)")
        }
        let outs = names ?? (0..<outTypes.count).map { outTypes.count == 1 ? nodeName : "\(nodeName).\($0)" }
        guard outs.count == outTypes.count else { throw TRMError(.invalidGraph, "\(nodeName): expected \(outTypes.count) output names") }
        for (n, t) in zip(outs, outTypes) { try define(n, t) }
        graph.nodes.append(Node(nodeName, op, inputs: inputs, outputs: outs))
        return outs
    }

    /// Marks an existing value as a graph output.
    public mutating func output(_ name: String) throws {
        guard let t = types[name] else { throw TRMError(.invalidGraph, "output '\(name)' is not defined") }
        graph.outputs.append(ValueInfo(name, t))
    }

    /// Renames a value defined by a node (e.g. to give a graph output its contract name).
    public mutating func rename(_ old: String, to new: String) throws {
        guard let t = types[old], graph.nodes.contains(where: { $0.outputs.contains(old) }) else {
            throw TRMError(.invalidGraph, "rename: '\(old)' is not a node output")
        }
        try define(new, t)
        types[old] = nil
        for i in graph.nodes.indices {
            graph.nodes[i].inputs = graph.nodes[i].inputs.map { $0 == old ? new : $0 }
            graph.nodes[i].outputs = graph.nodes[i].outputs.map { $0 == old ? new : $0 }
        }
        for i in graph.outputs.indices where graph.outputs[i].name == old { graph.outputs[i].name = new }
    }

    /// The finished, verified graph.
    public func build() throws -> Graph {
        try Verifier.verify(graph)
        return graph
    }

    private mutating func define(_ name: String, _ type: TensorType) throws {
        guard types[name] == nil else { throw TRMError(.invalidGraph, "value '\(name)' is defined twice") }
        types[name] = type
    }
}
