import TRMCore

/// The contents of a constant tensor: values in memory, or little-endian values in a mapped file
/// (a `.trmg`'s external-data sidecar, docs/formats.md §2.5), which are read in place.
public enum TensorData: Sendable {
    case float32([Float])
    case int32([Int32])
    /// `count` values of `dtype` in a mapped file, never copied unless asked for (`floats`).
    case mapped(DType, MappedBytes)

    public var dtype: DType {
        switch self {
        case .float32: return .float32
        case .int32: return .int32
        case .mapped(let dtype, _): return dtype
        }
    }

    public var count: Int {
        switch self {
        case .float32(let v): return v.count
        case .int32(let v): return v.count
        case .mapped(let dtype, let bytes): return bytes.count / dtype.byteSize
        }
    }

    /// The values as fp32 (nil for int32 data); mapped values are copied out.
    public var floats: [Float]? {
        switch self {
        case .float32(let v): return v
        case .int32: return nil
        case .mapped(let dtype, let bytes):
            guard dtype == .float32 else { return nil }
            return bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
    }

    /// Multiplies fp32 values by `factor` (in place when this value holds the only reference to
    /// them; mapped values are copied out first).
    public mutating func scale(by factor: Float) {
        guard case .float32(var v) = self else {
            if let v = floats { self = .float32(v.map { $0 * factor }) }
            return
        }
        self = .int32([])  // drops this value's reference, so `v` is unique and changes in place
        v.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] *= factor } }
        self = .float32(v)
    }

    /// Whether the values live in a mapped file.
    public var isMapped: Bool {
        if case .mapped = self { return true }
        return false
    }

    /// Calls `body` with the values' bytes (little-endian, `count × dtype.byteSize` of them).
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch self {
        case .float32(let v): return try v.withUnsafeBytes(body)
        case .int32(let v): return try v.withUnsafeBytes(body)
        case .mapped(_, let bytes): return try bytes.withUnsafeBytes(body)
        }
    }
}

/// Equal contents are equal data, wherever they live: element by element as the dtype compares
/// (so fp32 keeps `[Float]`'s equality), and a mapped tensor equals the array it was written from.
extension TensorData: Hashable {
    public static func == (a: TensorData, b: TensorData) -> Bool {
        switch (a, b) {
        case (.float32(let x), .float32(let y)): return x == y
        case (.int32(let x), .int32(let y)): return x == y
        default:
            guard a.dtype == b.dtype, a.count == b.count else { return false }
            return a.withUnsafeBytes { x in
                b.withUnsafeBytes { y in
                    switch a.dtype {
                    case .float32: return x.bindMemory(to: Float.self).elementsEqual(y.bindMemory(to: Float.self))
                    case .int32: return x.bindMemory(to: Int32.self).elementsEqual(y.bindMemory(to: Int32.self))
                    }
                }
            }
        }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(dtype)
        hasher.combine(count)
        withUnsafeBytes { raw in
            switch dtype {
            case .float32: for v in raw.bindMemory(to: Float.self) { hasher.combine(v) }
            case .int32: for v in raw.bindMemory(to: Int32.self) { hasher.combine(v) }
            }
        }
    }
}
