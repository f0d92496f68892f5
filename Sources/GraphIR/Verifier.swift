import TRMCore
/// Checks a graph end to end: every value defined exactly once before use, every shape inferred and
/// consistent with the declared outputs, batch axes only at position 0, sizes bounded.
public enum Verifier {
    /// Largest element count a single value may have per sample (`TensorLimits.maxElements`).
    public static let maxElements = TensorLimits.maxElements

    /// Verifies `graph` and returns the inferred type of every value (inputs, initializers, outputs
    /// of nodes) by name.
    @discardableResult
    public static func verify(_ graph: Graph) throws -> [String: TensorType] {
        var types: [String: TensorType] = [:]
        func define(_ name: String, _ type: TensorType, _ by: String) throws {
            guard !name.isEmpty else { throw TRMError(.invalidGraph, "\(by) defines a value with an empty name") }
            guard types[name] == nil else { throw TRMError(.invalidGraph, "value '\(name)' is defined twice (again by \(by))") }
            try checkShape(type.shape, of: name)
            types[name] = type
        }
        for input in graph.inputs { try define(input.name, input.type, "graph input") }
        for initializer in graph.initializers {
            guard initializer.dims.allSatisfy({ $0 > 0 && $0 <= Op.maxDim }) else {
                throw TRMError(.invalidGraph, "initializer '\(initializer.name)' has non-positive or huge dims \(initializer.dims)")
            }
            try define(initializer.name, initializer.type, "initializer")
            guard Shape(fixed: initializer.dims).elementsPerSample == initializer.data.count else {
                throw TRMError(
                    .invalidGraph, "initializer '\(initializer.name)' holds \(initializer.data.count) values for dims \(initializer.dims)")
            }
        }
        var nodeNames = Set<String>()
        for node in graph.nodes {
            guard nodeNames.insert(node.name).inserted else {
                throw TRMError(.invalidGraph, "node name '\(node.name)' is used twice")
            }
            let inputTypes = try node.inputs.map { name -> TensorType in
                guard let t = types[name] else {
                    throw TRMError(.invalidGraph, "node '\(node.name)' (\(node.op.name)) reads '\(name)', which is not defined before it")
                }
                return t
            }
            let outputTypes: [TensorType]
            do {
                outputTypes = try node.op.inferTypes(inputTypes)
            } catch let e as TRMError {
                throw TRMError(.invalidGraph, "node '\(node.name)': \(e.message)")
            }
            guard outputTypes.count == node.outputs.count else {
                throw TRMError(
                    .invalidGraph,
                    "node '\(node.name)' (\(node.op.name)) has \(node.outputs.count) outputs, the op makes \(outputTypes.count)")
            }
            for (name, type) in zip(node.outputs, outputTypes) { try define(name, type, "node '\(node.name)'") }
        }
        for output in graph.outputs {
            guard let t = types[output.name] else {
                throw TRMError(.invalidGraph, "graph output '\(output.name)' is never computed")
            }
            guard t == output.type else {
                throw TRMError(.invalidGraph, "graph output '\(output.name)' is declared \(output.type) but computed as \(t)")
            }
        }
        return types
    }

    static func checkShape(_ shape: Shape, of name: String) throws {
        for (i, d) in shape.dims.enumerated() {
            switch d {
            case .batch where i != 0:
                throw TRMError(.invalidGraph, "value '\(name)' has the batch dimension at axis \(i); it must be axis 0")
            case .fixed(let n) where n <= 0 || n > Op.maxDim:
                throw TRMError(.invalidGraph, "value '\(name)' has dimension \(n) at axis \(i)")
            default: break
            }
        }
        guard let n = shape.elementsPerSample, n <= maxElements else {
            throw TRMError(.invalidGraph, "value '\(name)' \(shape) is too large")
        }
    }
}
