import GraphIR

/// Named fp32 tensors keyed by their checkpoint names (docs/formats.md §1): the model's weights, or a
/// gradient of the same layout. Composite layers read their tensors by prefix (`<prefix>.qkv_proj.weight`)
/// and accumulate gradients into a set built by `zeros()`.
public struct ParameterSet: Sendable, Equatable {
    public private(set) var tensors: [String: [Float]] {
        didSet { packs = nil }  // packed copies of the old values must not outlive them
    }

    /// The Linear weights of these tensors packed for a step's arithmetic (`SupervisionStep` sets it
    /// on its copy of the weights); nil runs fp32 products that pack per call. Dropped by every
    /// change of `tensors`, so it never holds stale values; not part of `==`.
    public var packs: WeightPacks?

    public init(_ tensors: [String: [Float]] = [:]) { self.tensors = tensors }

    public static func == (a: ParameterSet, b: ParameterSet) -> Bool { a.tensors == b.tensors }

    /// Every tensor of a checkpoint (trained or not: the puzzle table, H_init and L_init too).
    public init(checkpoint: Checkpoint) {
        tensors = checkpoint.tensors.mapValues(\.values)
    }

    /// The tensor `name`; a missing name is a programming error.
    public subscript(name: String) -> [Float] {
        get {
            guard let t = tensors[name] else { preconditionFailure("ParameterSet: no tensor '\(name)'") }
            return t
        }
        set { tensors[name] = newValue }
    }

    /// A set with the same names and sizes, all zero: the gradient accumulator for this set.
    public func zeros() -> ParameterSet {
        ParameterSet(tensors.mapValues { [Float](repeating: 0, count: $0.count) })
    }

    /// Runs `body` on tensor `name` in place (no copy of the array), e.g. to accumulate a gradient.
    public mutating func modify<R>(_ name: String, _ body: (inout [Float]) throws -> R) rethrows -> R {
        guard tensors[name] != nil else { preconditionFailure("ParameterSet: no tensor '\(name)'") }
        return try body(&tensors[name]!)
    }

    /// Names in sorted order (deterministic iteration).
    public var names: [String] { tensors.keys.sorted() }
}
