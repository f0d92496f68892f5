/// A small, value-typed picture of the parts of ONNX that `ai.trm` function bodies use: nodes of the
/// standard domain, constant tensors, Scan/If subgraphs and attribute references. It exists so the
/// bodies can be built and compared in Swift (tests, determinism) and packed by one piece of
/// protobuf-c code (`ProtoPacker`).

/// A constant tensor inside a body (the `value` of a `Constant`, for instance).
public struct OnnxTensor: Hashable, Sendable {
    /// The element values, which also fix the ONNX data type.
    public enum Values: Hashable, Sendable {
        case float32([Float])
        case float64([Double])
        case int64([Int64])
    }

    public var dims: [Int]
    public var values: Values

    public init(dims: [Int], values: Values) {
        self.dims = dims
        self.values = values
    }

    /// The ONNX `TensorProto.DataType` code of the values.
    public var dataType: Int32 {
        switch values {
        case .float32: return 1
        case .int64: return 7
        case .float64: return 11
        }
    }
}

/// The ONNX `AttributeProto.AttributeType` of an attribute.
public enum OnnxAttributeKind: Int32, Hashable, Sendable {
    case float = 1
    case int = 2
    case string = 3
    case tensor = 4
    case graph = 5
    case floats = 6
    case ints = 7
}

/// An attribute value of a body node.
public enum OnnxAttributeValue: Hashable, Sendable {
    case int(Int)
    case float(Float)
    case ints([Int])
    case floats([Float])
    case string(String)
    case tensor(OnnxTensor)
    case graph(OnnxGraph)
    /// `ref_attr_name`: takes the value of the calling node's attribute `name`, of type `kind`.
    case reference(String, OnnxAttributeKind)

    /// The `type` field written for this value (for a reference, the referenced attribute's type).
    public var kind: OnnxAttributeKind {
        switch self {
        case .int: return .int
        case .float: return .float
        case .ints: return .ints
        case .floats: return .floats
        case .string: return .string
        case .tensor: return .tensor
        case .graph: return .graph
        case .reference(_, let k): return k
        }
    }
}

/// A named attribute of a body node.
public struct OnnxAttribute: Hashable, Sendable {
    public var name: String
    public var value: OnnxAttributeValue

    public init(_ name: String, _ value: OnnxAttributeValue) {
        self.name = name
        self.value = value
    }

    /// Shorthands for the attribute kinds bodies use most.
    public static func int(_ name: String, _ v: Int) -> OnnxAttribute { OnnxAttribute(name, .int(v)) }
    public static func ints(_ name: String, _ v: [Int]) -> OnnxAttribute { OnnxAttribute(name, .ints(v)) }
    public static func float(_ name: String, _ v: Float) -> OnnxAttribute { OnnxAttribute(name, .float(v)) }
}

/// One node of a body. An empty input name marks an omitted optional input, as in ONNX.
public struct OnnxNode: Hashable, Sendable {
    /// Unique in its body: what the node is part of and its op (`rms_norm.ReduceMean_4`).
    public var name: String?
    public var opType: String
    /// "" is the standard ONNX domain, the only one bodies use.
    public var domain: String
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [OnnxAttribute]

    public init(
        _ opType: String, inputs: [String], outputs: [String], attributes: [OnnxAttribute] = [],
        domain: String = "", name: String? = nil
    ) {
        self.name = name
        self.opType = opType
        self.domain = domain
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
    }
}

/// A subgraph input or output: a tensor of element type `dataType` whose shape is left to the caller
/// (Scan passes slices whose batch size is only known at run time).
public struct OnnxValueInfo: Hashable, Sendable {
    public var name: String
    public var dataType: Int32

    public init(_ name: String, dataType: Int32 = 1) {
        self.name = name
        self.dataType = dataType
    }
}

/// A subgraph (the `body` of a Scan).
public struct OnnxGraph: Hashable, Sendable {
    public var name: String
    public var nodes: [OnnxNode]
    public var inputs: [OnnxValueInfo]
    public var outputs: [OnnxValueInfo]

    public init(name: String, nodes: [OnnxNode], inputs: [OnnxValueInfo], outputs: [OnnxValueInfo]) {
        self.name = name
        self.nodes = nodes
        self.inputs = inputs
        self.outputs = outputs
    }
}

/// A model-local ONNX function: the standard-op body of one `ai.trm` op, possibly specialised to
/// one attribute set through an IR-10 `overload`.
public struct OnnxFunction: Hashable, Sendable {
    public var name: String
    public var domain: String
    /// Selects this body for the nodes with the same `overload`; nil for an op with one body.
    public var overload: String?
    public var inputs: [String]
    public var outputs: [String]
    /// Attribute names the calling node carries (documentation for readers such as Netron).
    public var attributes: [String]
    public var nodes: [OnnxNode]
    /// (domain, version) pairs the body's nodes use.
    public var opsetImports: [OnnxOpset]

    public init(
        name: String, domain: String, overload: String?, inputs: [String], outputs: [String],
        attributes: [String], nodes: [OnnxNode], opsetImports: [OnnxOpset]
    ) {
        self.name = name
        self.domain = domain
        self.overload = overload
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
        self.nodes = nodes
        self.opsetImports = opsetImports
    }
}

/// An `OperatorSetIdProto`.
public struct OnnxOpset: Hashable, Sendable {
    public var domain: String
    public var version: Int64

    public init(_ domain: String, _ version: Int64) {
        self.domain = domain
        self.version = version
    }
}
