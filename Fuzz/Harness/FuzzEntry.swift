import FuzzTargets
import Foundation

// libFuzzer's entry points, built only with `TRM_FUZZ=1 swift build --sanitize fuzzer ...` (see
// `make fuzz`): libFuzzer supplies `main`, so this module is compiled with -parse-as-library.
// The target is chosen by TRM_FUZZ_TARGET (one binary, one target per process).

nonisolated(unsafe) private var selected: FuzzTarget?

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> Int32 {
    let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
    guard let name = ProcessInfo.processInfo.environment["TRM_FUZZ_TARGET"], let target = FuzzTarget(rawValue: name) else {
        fputs("trm-fuzz: set TRM_FUZZ_TARGET to one of: \(names)\n", stderr)
        exit(2)
    }
    selected = target
    FuzzTarget.limitResources()
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size == 0 ? [] : [UInt8](UnsafeBufferPointer(start: data, count: size))
    selected?.run(bytes)
    return 0
}
