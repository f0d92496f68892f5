import Foundation

/// NumPy `.npy` arrays (format versions 1-3, C order, little-endian): the raw-mode I/O of trm-run and
/// the arrays of the reference's dataset folders (uint8 tokens, int32 indices). Token files may be
/// uint8 or uint16 (what NumPy code saves for small vocabularies) as well as int32 or int64.
public enum Npy {
    /// An array read from a file: float or integer values with their shape.
    public enum Values: Equatable {
        case float32([Float])
        case int32([Int32])
        /// `|u1`, kept as bytes (the reference's token arrays).
        case uint8([UInt8])
        /// `<u2` (tokens of a vocabulary over 256).
        case uint16([UInt16])
        /// `|b1`: every byte 0 or 1.
        case bool([Bool])

        /// The dtype as NumPy names it ("uint8"), for messages.
        public var dtypeName: String {
            switch self {
            case .float32: return "float32"
            case .int32: return "int32"
            case .uint8: return "uint8"
            case .uint16: return "uint16"
            case .bool: return "bool"
            }
        }

        /// Number of elements.
        public var count: Int {
            switch self {
            case .float32(let v): return v.count
            case .int32(let v): return v.count
            case .uint8(let v): return v.count
            case .uint16(let v): return v.count
            case .bool(let v): return v.count
            }
        }

        /// The values as Int when the array holds integers or bools (floats: nil).
        public var integers: [Int]? {
            switch self {
            case .float32: return nil
            case .int32(let v): return v.map(Int.init)
            case .uint8(let v): return v.map(Int.init)
            case .uint16(let v): return v.map(Int.init)
            case .bool(let v): return v.map { $0 ? 1 : 0 }
            }
        }
    }

    /// Largest header accepted.
    static let maxHeader = 1 << 16

    /// Bytes of a version-1 `.npy` file.
    public static func serialize(_ values: Values, shape: [Int]) -> [UInt8] {
        let descr: String
        var body: [UInt8]
        switch values {
        case .float32(let v): descr = "<f4"; body = v.withUnsafeBytes { Array($0) }
        case .int32(let v): descr = "<i4"; body = v.withUnsafeBytes { Array($0) }
        case .uint8(let v): descr = "|u1"; body = v
        case .uint16(let v): descr = "<u2"; body = v.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        case .bool(let v): descr = "|b1"; body = v.map { $0 ? 1 : 0 }
        }
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(dims)), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        out += [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
        out += Array(header.utf8)
        body.withUnsafeBufferPointer { out.append(contentsOf: $0) }
        return out
    }

    public static func write(_ values: Values, shape: [Int], to path: String) throws {
        try AtomicFile.write(serialize(values, shape: shape), to: path)
    }

    /// An integer array as int32 (uint8, uint16 and bool widened; `what` names it in the error when
    /// the file holds floats).
    public static func readInt32(path: String, what: String) throws -> (values: [Int32], shape: [Int]) {
        let (values, shape) = try read(path: path)
        switch values {
        case .int32(let v): return (v, shape)
        case .uint8(let v): return (v.map(Int32.init), shape)
        case .uint16(let v): return (v.map(Int32.init), shape)
        case .bool(let v): return (v.map { $0 ? 1 : 0 }, shape)
        case .float32: throw TRMError(.invalidInput, "\(path): \(what) must be an integer array, not float")
        }
    }

    public static func read(path: String) throws -> (values: Values, shape: [Int]) {
        let bytes = try AtomicFile.read(path, limit: 1 << 34)
        do { return try parse(bytes) } catch let e as TRMError { throw TRMError(e.kind, "\(path): \(e.message)") }
    }

    /// Parses `.npy` bytes. Accepts <f4, <f8 (narrowed), <i4, <i8 (range-checked to int32), |u1, <u2
    /// and |b1 (each byte 0 or 1), C order only.
    public static func parse(_ bytes: [UInt8]) throws -> (values: Values, shape: [Int]) {
        func fail(_ why: String) -> TRMError { TRMError(.invalidInput, "not a usable .npy file: \(why)") }
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else { throw fail("bad magic") }
        let major = bytes[6]
        let headerLen: Int, start: Int
        switch major {
        case 1: headerLen = Int(bytes[8]) | Int(bytes[9]) << 8; start = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated header") }
            headerLen = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24; start = 12
        default: throw fail("unsupported version \(major)")
        }
        guard headerLen <= maxHeader, start + headerLen <= bytes.count else { throw fail("truncated header") }
        let header = String(decoding: bytes[start..<(start + headerLen)], as: UTF8.self)
        func field(_ key: String) -> String? {
            guard let r = header.range(of: "'\(key)':") else { return nil }
            return String(header[r.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        guard let descrField = field("descr"), descrField.hasPrefix("'"),
            let descr = descrField.dropFirst().split(separator: "'").first.map(String.init)
        else { throw fail("no descr") }
        guard let fortran = field("fortran_order"), fortran.hasPrefix("False") else { throw fail("only C-order arrays are supported") }
        guard let shapeField = field("shape"), shapeField.hasPrefix("("), let close = shapeField.firstIndex(of: ")") else {
            throw fail("no shape")
        }
        let shape = try shapeField[shapeField.index(after: shapeField.startIndex)..<close].split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { s -> Int in
                guard let d = Int(s), d >= 0, d <= TensorLimits.maxDim else { throw fail("bad dimension '\(s)'") }
                return d
            }
        guard shape.count <= 8, let count = TensorLimits.product(shape), count <= TensorLimits.maxElements else {
            throw fail("shape too large")
        }
        let data = start + headerLen
        let size: Int
        switch descr {
        case "|u1", "|b1": size = 1
        case "<u2": size = 2
        case "<f4", "<i4": size = 4
        case "<f8", "<i8": size = 8
        default: throw fail("dtype '\(descr)' (use float32, float64, int32, int64, uint8, uint16 or bool)")
        }
        guard bytes.count - data == count * size else { throw fail("\(bytes.count - data) data bytes for shape \(shape) of \(descr)") }
        return try bytes.withUnsafeBytes { raw -> (Values, [Int]) in
            let p = raw.baseAddress! + data
            switch descr {
            case "|u1": return (.uint8(Array(raw[data...])), shape)
            case "<u2":
                return (.uint16((0..<count).map { UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)) }), shape)
            case "|b1":
                if let i = raw[data...].firstIndex(where: { $0 > 1 }) { throw fail("bool element \(i - data) is \(raw[i]), not 0 or 1") }
                return (.bool(raw[data...].map { $0 == 1 }), shape)
            case "<f4":
                return (
                    .float32(
                        (0..<count).map {
                            Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
                        }), shape
                )
            case "<f8":
                return (
                    .float32(
                        (0..<count).map {
                            Float(Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self))))
                        }), shape
                )
            case "<i4":
                return (
                    .int32(
                        (0..<count).map {
                            Int32(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
                        }), shape
                )
            default:
                let v = try (0..<count).map { i -> Int32 in
                    let x = Int64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))
                    guard let y = Int32(exactly: x) else { throw fail("int64 value \(x) does not fit in int32") }
                    return y
                }
                return (.int32(v), shape)
            }
        }
    }
}
