import GraphIR

/// A torch state-dict archive written the way `torch.save(model.state_dict(), path)` lays it out:
/// `<folder>/data.pkl` (an `OrderedDict` of `_rebuild_tensor_v2` calls with persistent storage ids and
/// the `_metadata` state), `<folder>/byteorder`, one `<folder>/data/<key>` per storage, `version` and
/// `.data/serialization_id`, stored in a zip with 64-byte-aligned data. For tests and fuzz seeds of
/// `TorchCheckpoint`; `ZipWriter` writes the archive.
public struct TorchZipWriter {
    /// One storage's elements (written in `dtype`: bf16 by truncation, fp16 by rounding).
    public struct Storage {
        public var dtype: TorchDType
        public var values: [Float]
        public init(dtype: TorchDType, values: [Float]) {
            self.dtype = dtype
            self.values = values
        }
    }

    /// A state-dict entry: a strided view of a storage, or an int (as a step counter would be).
    public enum Entry {
        case tensor(name: String, storage: Int, offset: Int, shape: [Int], strides: [Int], parameter: Bool)
        case int(name: String, value: Int)
    }

    public var folder = "archive"
    public var storages: [Storage] = []
    public var entries: [Entry] = []
    public var pickleProtocol = 2
    public var zip64 = false
    /// The `byteorder` record's text; nil leaves the record out (as torch before 2.1 did).
    public var byteorder: String? = "little"

    public init() {}

    /// Row-major strides of `shape`.
    public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        for i in stride(from: shape.count - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * shape[i + 1] }
        return strides
    }

    /// Adds a storage and returns its index (its key is the index as a string).
    @discardableResult
    public mutating func addStorage(_ dtype: TorchDType, _ values: [Float]) -> Int {
        storages.append(Storage(dtype: dtype, values: values))
        return storages.count - 1
    }

    /// Adds a contiguous tensor with a storage of its own.
    public mutating func add(_ name: String, shape: [Int], values: [Float], dtype: TorchDType = .float32, parameter: Bool = false) {
        let s = addStorage(dtype, values)
        entries.append(
            .tensor(name: name, storage: s, offset: 0, shape: shape, strides: Self.contiguousStrides(shape), parameter: parameter))
    }

    /// Adds a view of storage `storage`.
    public mutating func addView(_ name: String, storage: Int, offset: Int = 0, shape: [Int], strides: [Int]) {
        entries.append(.tensor(name: name, storage: storage, offset: offset, shape: shape, strides: strides, parameter: false))
    }

    /// `data.pkl`.
    public func pickle() -> [UInt8] {
        var p = PickleWriter(protocol: pickleProtocol)
        p.orderedDict()
        p.mark()
        for entry in entries {
            switch entry {
            case .int(let name, let value):
                p.string(name)
                p.int(value)
            case .tensor(let name, let s, let offset, let shape, let strides, let parameter):
                p.string(name)
                if parameter { p.global("torch._utils", "_rebuild_parameter") }
                p.global("torch._utils", "_rebuild_tensor_v2")
                p.tuple(6) { p in
                    p.tuple(5) { p in
                        p.string("storage")
                        p.global("torch", Self.storageClass(storages[s].dtype))
                        p.string(String(s))
                        p.string("cpu")
                        p.int(storages[s].values.count)
                    }
                    p.persistentID()
                    p.int(offset)
                    p.ints(shape)
                    p.ints(strides)
                    p.bool(false)
                    p.orderedDict()
                }
                p.reduce()
                p.put()
                if parameter {
                    p.tuple(3) { p in
                        // The tensor is already on the stack: rebuild_parameter(tensor, requires_grad, hooks).
                        p.bool(true)
                        p.orderedDict()
                    }
                    p.reduce()
                    p.put()
                }
            }
        }
        p.setItems()
        // The state dict's `_metadata` attribute (module versions), set through BUILD.
        p.emptyDict()
        p.put()
        p.string("_metadata")
        p.orderedDict()
        p.mark()
        p.string("")
        p.emptyDict()
        p.put()
        p.string("version")
        p.int(1)
        p.setItem()
        p.setItems()
        p.setItem()
        p.build()
        return p.finish()
    }

    static func storageClass(_ dtype: TorchDType) -> String {
        switch dtype {
        case .float32: return "FloatStorage"
        case .bfloat16: return "BFloat16Storage"
        case .float16: return "HalfStorage"
        }
    }

    /// A storage's bytes, little-endian.
    public static func encode(_ s: Storage) -> [UInt8] {
        s.values.flatMap { v -> [UInt8] in
            switch s.dtype {
            case .float32: return le(Int(v.bitPattern), 4)
            case .bfloat16: return le(Int(v.bitPattern >> 16), 2)
            case .float16: return le(Int(Float16(v).bitPattern), 2)
            }
        }
    }

    /// The archive's records in the order torch writes them.
    public func records() -> [ZipWriter.Record] {
        var out = [ZipWriter.Record(name: folder + "/data.pkl", bytes: pickle())]
        if let byteorder { out.append(.init(name: folder + "/byteorder", bytes: Array(byteorder.utf8))) }
        for (i, s) in storages.enumerated() { out.append(.init(name: folder + "/data/\(i)", bytes: Self.encode(s))) }
        out.append(.init(name: folder + "/version", bytes: Array("3\n".utf8)))
        out.append(.init(name: folder + "/.data/serialization_id", bytes: Array("1234567890123456789012345678901234567890".utf8)))
        return out
    }

    /// The whole file.
    public func archive() -> [UInt8] { ZipWriter.archive(records(), zip64: zip64) }
}
