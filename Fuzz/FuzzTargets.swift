// libFuzzer entry point for the file readers, compiled together with the readers' own sources by
// tools/fuzz (swiftc -sanitize=fuzzer,address). RSO_FUZZ_TARGET picks the reader:
//   idx          IDXReader.readLabels and readImages (raw or gzip)
//   cifar10      CIFAR10Reader.readSplit with 3-record files (raw or gzip)
//   safetensors  SafeTensors.read; what parses must serialise back to a file that parses equal
// Each input is written to a file and read through the real path (bounded read, gunzip, parse).
// A reader may refuse an input only with its own error type; anything else (a crash, another
// error, an allocation over -malloc_limit_mb) is a finding.
#if canImport(Glibc)
import Glibc
#endif
import Foundation

enum FuzzTarget: String {
    case idx, cifar10, safetensors
}

let target: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["RSO_FUZZ_TARGET"] ?? ""
    guard let t = FuzzTarget(rawValue: name) else {
        fatalError("set RSO_FUZZ_TARGET to idx, cifar10 or safetensors (found '\(name)')")
    }
    return t
}()

/// One scratch file per process, rewritten for every input.
let scratchPath: String = {
    let dir = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
    return "\(dir)/rso-fuzz-\(getpid()).bin"
}()

func writeScratch(_ data: UnsafeRawBufferPointer) {
    let fd = open(scratchPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    precondition(fd >= 0, "cannot create \(scratchPath): \(String(cString: strerror(errno)))")
    var done = 0
    while done < data.count {
        let n = write(fd, data.baseAddress! + done, data.count - done)
        precondition(n > 0, "cannot write \(scratchPath)")
        done += n
    }
    close(fd)
}

/// Runs `body`, accepting only errors of type `E`.
func refusesOnlyWith<E: Error>(_: E.Type, _ body: () throws -> Void) {
    do {
        try body()
    } catch is E {
    } catch {
        fatalError("unexpected error type \(type(of: error)): \(error)")
    }
}

func fuzzIDX() {
    refusesOnlyWith(DataError.self) {
        let labels = try IDXReader.readLabels(scratchPath)
        precondition(labels.allSatisfy { $0 < Dataset.classCount })
    }
    refusesOnlyWith(DataError.self) {
        let (count, pixels) = try IDXReader.readImages(scratchPath)
        precondition(pixels.count == count * IDXReader.rows * IDXReader.cols)
    }
}

func fuzzCIFAR10() {
    refusesOnlyWith(DataError.self) {
        let split = try CIFAR10Reader.readSplit(paths: [scratchPath], recordsPerFile: 3)
        precondition(split.count == 3 && split.labels.allSatisfy { $0 < Dataset.classCount })
    }
}

func fuzzSafeTensors() {
    refusesOnlyWith(CheckpointError.self) {
        let st = try SafeTensors.read(path: scratchPath, maxBytes: 1 << 20)
        let again = try SafeTensors.parse(st.serialized(), file: "(serialized)")
        precondition(again == st, "serialize → parse changed the tensors or metadata")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    writeScratch(UnsafeRawBufferPointer(start: data, count: size))
    switch target {
    case .idx: fuzzIDX()
    case .cifar10: fuzzCIFAR10()
    case .safetensors: fuzzSafeTensors()
    }
    return 0
}
