import TRMCore
/// After an ACT step, graph output `from` becomes graph input `to`; a fresh slot starts from the
/// [D] vector `initial` broadcast over [S, D]: `initialValues` (what trm-compile writes), or, when
/// they are nil (files of plan format version 1, hand-made models), the initializer of that name.
public struct CarryBinding: Hashable, Sendable {
    public var from: String
    public var to: String
    public var initial: String
    public var initialValues: [Float]?

    public init(from: String, to: String, initial: String, initialValues: [Float]? = nil) {
        self.from = from
        self.to = to
        self.initial = initial
        self.initialValues = initialValues
    }

    /// The initial [D] vector: the binding's values or the initializer `initial` of `graph`.
    public func initialVector(in graph: Graph) -> [Float]? {
        initialValues ?? graph.initializer(named: initial).flatMap { $0.dims.count == 1 ? $0.data.floats : nil }
    }
}

/// Where one value lives in a sample's slice of the activation arena.
public struct ValuePlacement: Hashable, Sendable {
    public var name: String
    public var offset: Int
    public var bytesPerSample: Int

    public init(name: String, offset: Int, bytesPerSample: Int) {
        self.name = name
        self.offset = offset
        self.bytesPerSample = bytesPerSample
    }
}

/// The TRM-only part of a `.trmg` (ModelProto field 99): what the runtime needs besides the graph.
public struct ModelPlan: Hashable, Sendable {
    /// Version of this message's layout: 2 since the initial carries are in the plan
    /// (`CarryBinding.initialValues`); the reader still takes version 1.
    public static let formatVersion = 2
    /// The versions the reader takes.
    public static let readableVersions = 1...2

    public var configJSON: String
    public var taskJSON: String
    public var haltMaxSteps: Int
    public var carry: [CarryBinding]
    public var arenaBytesPerSample: Int
    public var naiveBytesPerSample: Int
    public var workspaceBytes: Int
    public var placements: [ValuePlacement]
    public var identifiers: [String]

    public init(
        configJSON: String = "{}", taskJSON: String = "{}", haltMaxSteps: Int = 1,
        carry: [CarryBinding] = [], arenaBytesPerSample: Int = 0, naiveBytesPerSample: Int = 0,
        workspaceBytes: Int = 0, placements: [ValuePlacement] = [], identifiers: [String] = []
    ) {
        self.configJSON = configJSON
        self.taskJSON = taskJSON
        self.haltMaxSteps = haltMaxSteps
        self.carry = carry
        self.arenaBytesPerSample = arenaBytesPerSample
        self.naiveBytesPerSample = naiveBytesPerSample
        self.workspaceBytes = workspaceBytes
        self.placements = placements
        self.identifiers = identifiers
    }
}

/// Everything a `.trmg` file holds: the step graph, the plan and free-form metadata.
public struct TrmgModel: Hashable, Sendable {
    public var graph: Graph
    public var plan: ModelPlan
    /// ONNX `metadata_props` (written sorted by key).
    public var metadata: [String: String]
    public var producerVersion: String

    public init(
        graph: Graph, plan: ModelPlan = ModelPlan(), metadata: [String: String] = [:],
        producerVersion: String = TrmgFormat.producerVersion
    ) {
        self.graph = graph
        self.plan = plan
        self.metadata = metadata
        self.producerVersion = producerVersion
    }
}

/// Constants of the `.trmg` format (docs/formats.md §2).
public enum TrmgFormat {
    public static let irVersion: Int64 = 10
    public static let onnxOpset: Int64 = 23
    public static let domain = "ai.trm"
    public static let domainVersion: Int64 = 1
    public static let producerName = "trm-compile"
    public static let producerVersion = TRMVersion.string
    /// Name of the symbolic batch dimension in ONNX shapes.
    public static let batchDimName = "B"
    /// Files larger than this are refused before reading (protobuf messages are limited to 2 GiB).
    public static let maxFileBytes = Int(Int32.max)
    /// Longest string field (names, metadata, the config and task JSON): trm-compile writes a few KB.
    public static let maxStringBytes = 16 << 20
    /// Most entries of one repeated field (nodes, initializers, dims, attributes, placements): an
    /// ARC-size model has about 2,000 nodes.
    public static let maxRepeated = 1 << 20
}
