import Foundation
import GraphIR
import Runtime
import TRMCore

// The C API of include/trm_runtime.h. Every entry point catches every error and returns a status
// code; handles are retained Swift objects behind opaque pointers.

final class ModelHandle {
    let model: LoadedModel
    let configJSON: UnsafeMutablePointer<CChar>
    init(_ model: LoadedModel) {
        self.model = model
        configJSON = strdup(model.plan.configJSON)!
    }
    deinit { free(configJSON) }
}

final class SessionHandle {
    let runner: ACTRunner
    /// Set from any thread by trm_session_cancel; the runner checks it before every ACT step.
    let cancellation = CancellationFlag()
    /// trm_session_set_progress's callback and its user pointer.
    var progress: (callback: @convention(c) (Int, Int, UnsafeMutableRawPointer?) -> Void, user: UnsafeMutableRawPointer?)?
    /// Whether the slots hold a step's outputs (false after create and after trm_session_load).
    var hasOutputs = false

    init(_ runner: ACTRunner) {
        self.runner = runner
        runner.cancellation = cancellation
    }

    /// The progress callback as the runner takes it (nil without one).
    var progressClosure: ((Int, Int) -> Void)? {
        guard let progress else { return nil }
        return { done, total in progress.callback(done, total, progress.user) }
    }
}

/// trm_status of include/trm_runtime.h, with the header's values and descriptions.
enum Status: Int32, CaseIterable {
    case ok = 0
    case invalidArgument, malformedModel, io, invalidInput, outOfMemory, internalError, cancelled, invalidState

    /// trm_status_string's text.
    var text: String {
        switch self {
        case .ok: return "ok"
        case .invalidArgument: return "invalid argument"
        case .malformedModel: return "malformed model"
        case .io: return "I/O error"
        case .invalidInput: return "invalid input"
        case .outOfMemory: return "out of memory"
        case .internalError: return "internal error"
        case .cancelled: return "cancelled"
        case .invalidState: return "invalid state"
        }
    }

    /// The texts as C strings, allocated once (trm_status_string returns them forever).
    static let cStrings: [UnsafeMutablePointer<CChar>] = allCases.map { strdup($0.text)! }
    static let unknown: UnsafeMutablePointer<CChar> = strdup("unknown status")!
}

/// The TRM_API_VERSION this library implements (the header's macros; a test compares the two).
let apiVersion: Int32 = 1_01_00

@_cdecl("trm_status_string")
public func trm_status_string(_ status: Int32) -> UnsafePointer<CChar> {
    guard let s = Status(rawValue: status) else { return UnsafePointer(Status.unknown) }
    return UnsafePointer(Status.cStrings[Int(s.rawValue)])
}

@_cdecl("trm_api_version")
public func trm_api_version() -> Int32 { apiVersion }

/// Runs `body`, recording the error message of a failure for `trm_last_error`.
func guarded(_ body: () throws -> Void) -> Int32 {
    do {
        try body()
        return Status.ok.rawValue
    } catch let e as ACTCancelled {
        LastError.set(e.description)
        return Status.cancelled.rawValue
    } catch let e as CAPIError {
        LastError.set(e.message)
        return e.status.rawValue
    } catch let e as TRMError {
        LastError.set(e.message)
        switch e.kind {
        case .malformedFile, .invalidGraph, .invalidConfig: return Status.malformedModel.rawValue
        case .io: return Status.io.rawValue
        case .invalidInput: return Status.invalidInput.rawValue
        case .outOfMemory: return Status.outOfMemory.rawValue
        }
    } catch {
        LastError.set("\(error)")
        return Status.internalError.rawValue
    }
}

struct CAPIError: Error {
    var status: Status
    var message: String
    static func argument(_ m: String) -> CAPIError { CAPIError(status: .invalidArgument, message: m) }
    static func state(_ m: String) -> CAPIError { CAPIError(status: .invalidState, message: m) }
}

/// The per-thread last error message.
enum LastError {
    nonisolated(unsafe) static var key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k) { free($0) }
        return k
    }()
    static let empty: UnsafeMutablePointer<CChar> = strdup("")!

    static func set(_ message: String) {
        if let old = pthread_getspecific(key) { free(old) }
        pthread_setspecific(key, strdup(message))
    }

    static func get() -> UnsafePointer<CChar> {
        guard let p = pthread_getspecific(key) else { return UnsafePointer(empty) }
        return UnsafePointer(p.assumingMemoryBound(to: CChar.self))
    }
}

func model(_ p: OpaquePointer?) throws -> ModelHandle {
    guard let p else { throw CAPIError.argument("model is NULL") }
    return Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
}

func session(_ p: OpaquePointer?) throws -> SessionHandle {
    guard let p else { throw CAPIError.argument("session is NULL") }
    return Unmanaged<SessionHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
}

let versionString: UnsafeMutablePointer<CChar> = strdup("trm_runtime " + TrmgFormat.producerVersion)!

@_cdecl("trm_version")
public func trm_version() -> UnsafePointer<CChar> { UnsafePointer(versionString) }

@_cdecl("trm_last_error")
public func trm_last_error() -> UnsafePointer<CChar> { LastError.get() }

@_cdecl("trm_model_open")
public func trm_model_open(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded {
        guard let path, let out else { throw CAPIError.argument("path and out must not be NULL") }
        let handle = ModelHandle(try LoadedModel(path: String(cString: path)))
        out.pointee = OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
    }
}

// A model with an external-data sidecar cannot come from bytes: TRM_ERR_IO, saying to open its path.
@_cdecl("trm_model_open_bytes")
public func trm_model_open_bytes(_ data: UnsafeRawPointer?, _ length: Int, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded {
        guard let data, let out else { throw CAPIError.argument("data and out must not be NULL") }
        guard length >= 0, length <= TrmgFormat.maxFileBytes else { throw CAPIError.argument("length \(length) is out of range") }
        let bytes = [UInt8](UnsafeRawBufferPointer(start: data, count: length))
        let handle = ModelHandle(try LoadedModel(bytes: bytes))
        out.pointee = OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
    }
}

@_cdecl("trm_model_free")
public func trm_model_free(_ p: OpaquePointer?) {
    guard let p else { return }
    Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(p)).release()
}

@_cdecl("trm_model_config_json")
public func trm_model_config_json(_ p: OpaquePointer?) -> UnsafePointer<CChar> {
    guard let h = try? model(p) else { return UnsafePointer(LastError.empty) }
    return UnsafePointer(h.configJSON)
}
