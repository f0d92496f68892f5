/// An error in a graph, a file or a configuration, with a message meant for the person who ran the
/// command: what is wrong and where.
public struct TRMError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable {
        /// A graph that fails verification (shapes, dtypes, dangling values).
        case invalidGraph
        /// A `.trmg` or `.ckpt` file that cannot be read.
        case malformedFile
        /// A configuration that is inconsistent or out of range.
        case invalidConfig
        /// Arguments or inputs given by the user.
        case invalidInput
        /// A file-system operation that failed.
        case io
        /// Memory, address space or threads that could not be had: an allocation over the
        /// available-memory limit or refused by the system, or a thread that could not be started.
        case outOfMemory
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

extension TRMError {
    /// `body`'s result; a `TRMError` it throws comes out with `context: ` in front of its message
    /// (the file being read, the part being checked).
    public static func within<T>(_ context: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as TRMError {
            throw TRMError(e.kind, "\(context): \(e.message)")
        }
    }
}
