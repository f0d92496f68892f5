/// A value built by `RestrictedUnpickler`. Containers are indices into the tables of the
/// `UnpickledObject` that holds them, so a value never nests: however deep or self-referential a
/// pickle's structure (a list appended to itself through the memo), there is no recursion and no
/// reference cycle.
public enum PickleValue: Hashable, Sendable {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    /// Index into `UnpickledObject.tuples`.
    case tuple(Int)
    /// Index into `UnpickledObject.lists`.
    case list(Int)
    /// Index into `UnpickledObject.dicts` (a dict or an `OrderedDict`).
    case dict(Int)
    /// One of the few globals the unpickler allows, never called except by the unpickler's own rules.
    case global(PickleGlobal)
    /// Index into `UnpickledObject.storages`: what a `persistent_load` of a torch storage returns.
    case storage(Int)
    /// Index into `UnpickledObject.tensors`: what `_rebuild_tensor_v2` or `_rebuild_parameter` return.
    case tensor(Int)

    /// A short description for error messages.
    var kind: String {
        switch self {
        case .none: return "None"
        case .bool: return "a bool"
        case .int: return "an int"
        case .float: return "a float"
        case .string: return "a string"
        case .tuple: return "a tuple"
        case .list: return "a list"
        case .dict: return "a dict"
        case .global(let g): return g.rawValue
        case .storage: return "a storage"
        case .tensor: return "a tensor"
        }
    }
}

/// The globals a tensor state dict refers to. Any other `module.name` is refused when the pickle
/// names it, before anything else happens.
public enum PickleGlobal: String, CaseIterable, Sendable {
    case orderedDict = "collections.OrderedDict"
    case rebuildTensorV2 = "torch._utils._rebuild_tensor_v2"
    case rebuildParameter = "torch._utils._rebuild_parameter"
    case floatStorage = "torch.FloatStorage"
    case bfloat16Storage = "torch.BFloat16Storage"
    case halfStorage = "torch.HalfStorage"

    /// The element type of a storage class.
    var storageType: TorchDType? {
        switch self {
        case .floatStorage: return .float32
        case .bfloat16Storage: return .bfloat16
        case .halfStorage: return .float16
        case .orderedDict, .rebuildTensorV2, .rebuildParameter: return nil
        }
    }
}

/// The element types read from torch storages; all become fp32.
public enum TorchDType: String, Sendable {
    case float32, bfloat16, float16

    public var byteCount: Int { self == .float32 ? 4 : 2 }
    /// The safetensors dtype with the same bytes (for `Safetensors.convert`).
    var safetensorsName: String {
        switch self {
        case .float32: return "F32"
        case .bfloat16: return "BF16"
        case .float16: return "F16"
        }
    }
}

/// A storage named by a persistent id `('storage', StorageClass, key, location, numel)`: its bytes are
/// the record `data/<key>` of the archive.
public struct TorchStorageRef: Hashable, Sendable {
    public var key: String
    public var dtype: TorchDType
    /// The device it was saved from (`cpu`, `cuda:0`); trm reads every storage to the CPU.
    public var location: String
    /// Elements of `dtype`.
    public var count: Int
}

/// A tensor as `_rebuild_tensor_v2` describes it: a strided view of a storage.
public struct TorchTensorRef: Hashable, Sendable {
    /// Index into `UnpickledObject.storages`.
    public var storage: Int
    /// First element, in elements of the storage.
    public var offset: Int
    public var shape: [Int]
    /// Elements between neighbours along each dimension.
    public var strides: [Int]
}

/// A dict or an `OrderedDict` (pickles fill both with SETITEM(S)), in insertion order.
public struct PickleDict: Hashable, Sendable {
    public var ordered: Bool
    public var keys: [PickleValue] = []
    public var values: [PickleValue] = []
}

/// What `RestrictedUnpickler.load` returns: the root value and the tables its containers index.
public struct UnpickledObject: Hashable, Sendable {
    public var root: PickleValue = .none
    public var tuples: [[PickleValue]] = []
    public var lists: [[PickleValue]] = []
    public var dicts: [PickleDict] = []
    public var storages: [TorchStorageRef] = []
    public var tensors: [TorchTensorRef] = []
}
