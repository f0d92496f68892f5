import GraphIR
import TRMCore

/// Runtime errors are `TRMError`s; these helpers name the common kinds.
enum TRMErrorBridge {
    static func outOfRange(_ message: String) -> TRMError { TRMError(.invalidInput, message) }
    static func outOfMemory(_ message: String) -> TRMError { TRMError(.outOfMemory, message) }
    static func badModel(_ message: String) -> TRMError { TRMError(.malformedFile, message) }
}
