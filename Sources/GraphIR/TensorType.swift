import TRMCore
/// Element types of graph values. Weights and activations are fp32; token ids and predictions int32.
public enum DType: String, Sendable, Hashable, Codable {
    case float32
    case int32

    /// Bytes per element.
    public var byteSize: Int { 4 }

    /// The ONNX `TensorProto.DataType` code.
    public var onnxCode: Int32 {
        switch self {
        case .float32: return 1
        case .int32: return 6
        }
    }

    public init?(onnxCode: Int32) {
        switch onnxCode {
        case 1: self = .float32
        case 6: self = .int32
        default: return nil
        }
    }
}

/// One dimension of a static shape: the symbolic batch dimension `B`, or a number.
public enum Dim: Hashable, Sendable, CustomStringConvertible {
    case batch
    case fixed(Int)

    public var description: String {
        switch self {
        case .batch: return "B"
        case .fixed(let n): return String(n)
        }
    }
}

/// A static shape. The batch dimension, when present, is always axis 0; every axis index in op
/// attributes counts it.
public struct Shape: Hashable, Sendable, CustomStringConvertible {
    public var dims: [Dim]

    public init(_ dims: [Dim]) { self.dims = dims }

    /// A shape without a batch dimension (weights, tables).
    public init(fixed: [Int]) { self.dims = fixed.map { .fixed($0) } }

    /// `[B] + perSample`.
    public init(batched perSample: [Int]) { self.dims = [.batch] + perSample.map { .fixed($0) } }

    public var rank: Int { dims.count }
    public var isBatched: Bool { dims.first == .batch }

    /// The numeric dimensions after the batch dimension (all of them when not batched).
    public var sampleDims: [Int] {
        dims.compactMap { if case .fixed(let n) = $0 { return n } else { return nil } }
    }

    /// Elements per sample (or in total for an unbatched shape); nil on overflow.
    public var elementsPerSample: Int? { TensorLimits.product(sampleDims) }

    /// The numeric size of axis `i` (nil for the batch axis).
    public func size(_ axis: Int) -> Int? {
        if case .fixed(let n) = dims[axis] { return n }
        return nil
    }

    public var description: String { "[" + dims.map(\.description).joined(separator: ", ") + "]" }
}

/// The type of a graph value.
public struct TensorType: Hashable, Sendable, CustomStringConvertible {
    public var dtype: DType
    public var shape: Shape

    public init(_ dtype: DType, _ shape: Shape) {
        self.dtype = dtype
        self.shape = shape
    }

    public var description: String { "\(dtype.rawValue)\(shape)" }
}
