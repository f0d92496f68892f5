import Foundation
import TRMCore

/// A named fp32 tensor.
public struct NamedTensor: Hashable, Sendable {
    public var name: String
    public var shape: [Int]
    public var values: [Float]

    public init(name: String, shape: [Int], values: [Float]) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// The safetensors container: 8-byte little-endian header length, a JSON header, raw little-endian
/// data. Reading converts F32, F64, F16 and BF16 tensors to fp32; other dtypes are refused.
public enum Safetensors {
    /// Largest header accepted (the reference implementation's limit is 100 MB).
    public static let maxHeaderBytes = 100_000_000

    /// Bytes of a safetensors file holding `tensors` (in order) and string `metadata`.
    public static func serialize(_ tensors: [NamedTensor], metadata: [String: String]) -> [UInt8] {
        var entries: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key < $1.key }.map { "\(JSONText.quote($0.key)):\(JSONText.quote($0.value))" }
            entries.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        var offset = 0
        for t in tensors {
            let end = offset + t.values.count * 4
            entries.append(
                "\(JSONText.quote(t.name)):{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(end)]}"
            )
            offset = end
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        for t in tensors { t.values.withUnsafeBytes { out.append(contentsOf: $0) } }
        return out
    }

    /// Parses a safetensors file: (tensors in file order, metadata). Validates the header length,
    /// the JSON, every dtype, shape and data offset; refuses overlapping or out-of-range data.
    public static func parse(_ bytes: [UInt8]) throws -> (tensors: [NamedTensor], metadata: [String: String]) {
        try parse(ByteSource(bytes))
    }

    /// Reads the safetensors file at `path` as `parse` does, through a read-only mapping converted
    /// chunk by chunk (`ByteSource`): the file is never held in memory beside its fp32 values.
    public static func read(path: String, limit: Int) throws -> (tensors: [NamedTensor], metadata: [String: String]) {
        let source = try ByteSource(mapping: path, limit: limit)
        return try TRMError.within(path) { try parse(source) }
    }

    static func parse(_ bytes: ByteSource) throws -> (tensors: [NamedTensor], metadata: [String: String]) {
        func fail(_ why: String) -> TRMError { TRMError(.malformedFile, "safetensors: \(why)") }
        guard bytes.count >= 8 else { throw fail("file is \(bytes.count) bytes, shorter than the 8-byte header length") }
        var n: UInt64 = 0
        for (i, b) in bytes[0..<8].enumerated() { n |= UInt64(b) << (8 * UInt64(i)) }
        guard n >= 2, n <= UInt64(maxHeaderBytes), n <= UInt64(bytes.count - 8) else {
            throw fail("header length \(n) is impossible for a \(bytes.count)-byte file")
        }
        let headerEnd = 8 + Int(n)
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd]), options: [])
        } catch {
            throw fail("header is not valid JSON")
        }
        guard let header = json as? [String: Any] else { throw fail("header is not a JSON object") }
        let dataCount = bytes.count - headerEnd
        var metadata: [String: String] = [:]
        var entries: [(name: String, shape: [Int], dtype: String, begin: Int, end: Int)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw fail("__metadata__ is not an object") }
                for (k, v) in m {
                    guard let s = v as? String else { throw fail("metadata value '\(k)' is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let entry = value as? [String: Any] else { throw fail("entry '\(name)' is not an object") }
            guard let dtype = entry["dtype"] as? String else { throw fail("tensor '\(name)' has no dtype") }
            guard let elementSize = elementSizes[dtype] else { throw fail("tensor '\(name)' has unsupported dtype '\(dtype)'") }
            guard let shapeList = entry["shape"] as? [Any], shapeList.count <= 8 else { throw fail("tensor '\(name)' has no valid shape") }
            let shape = try shapeList.map { v -> Int in
                guard let d = JSONText.int(v), d >= 0, d <= Op.maxDim else { throw fail("tensor '\(name)' has a bad dimension") }
                return d
            }
            guard let offsets = entry["data_offsets"] as? [Any], offsets.count == 2,
                let begin = JSONText.int(offsets[0]), let end = JSONText.int(offsets[1]),
                begin >= 0, begin <= end, end <= dataCount
            else {
                throw fail("tensor '\(name)' has data offsets outside the \(dataCount)-byte data section")
            }
            guard let count = Shape(fixed: shape).elementsPerSample, count <= Verifier.maxElements,
                count * elementSize == end - begin
            else {
                throw fail("tensor '\(name)' of shape \(shape) and dtype \(dtype) does not match its \(end - begin) data bytes")
            }
            entries.append((name, shape, dtype, begin, end))
        }
        entries.sort { $0.begin < $1.begin }
        var previousEnd = 0
        for e in entries {
            guard e.begin >= previousEnd else { throw fail("tensor '\(e.name)' overlaps the tensor before it") }
            previousEnd = e.end
        }
        let elements = entries.reduce(0) { $0 + ($1.end - $1.begin) / elementSizes[$1.dtype]! }
        try SystemMemory.require(4 * Double(elements), for: "reading the tensors of this safetensors file")
        return (
            entries.map { e in
                let count = (e.end - e.begin) / elementSizes[e.dtype]!
                return NamedTensor(
                    name: e.name, shape: e.shape, values: bytes.floats(at: headerEnd + e.begin, count: count, dtype: e.dtype))
            }, metadata
        )
    }

    static let elementSizes: [String: Int] = ["F32": 4, "F64": 8, "F16": 2, "BF16": 2]

    /// Converts the little-endian values of `dtype` in `raw` (a whole number of them) into `out`.
    static func convert(_ raw: UnsafeRawBufferPointer, dtype: String, into out: UnsafeMutableBufferPointer<Float>) {
        guard let base = raw.baseAddress else { return }
        switch dtype {
        case "F32":
            for i in 0..<out.count {
                out[i] = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            }
        case "F64":
            for i in 0..<out.count {
                out[i] = Float(Double(bitPattern: UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
            }
        case "BF16":
            for i in 0..<out.count {
                out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
            }
        default:  // F16
            for i in 0..<out.count {
                out[i] = Float(Float16(bitPattern: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))
            }
        }
    }
}
