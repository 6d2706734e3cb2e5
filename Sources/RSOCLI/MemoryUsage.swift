import Foundation

enum MemoryUsage {
    /// Peak resident set size of this process (VmHWM from /proc/self/status), in bytes; 0 if unknown.
    static func peakResidentBytes() -> Int {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        return peakResidentBytes(status: s)
    }

    /// VmHWM of a /proc/<pid>/status text, in bytes; 0 when the line is missing.
    static func peakResidentBytes(status: String) -> Int {
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            // "VmHWM:\t 123456 kB": the number is right-aligned after a tab, so from 10 GB up no
            // space precedes it — split on any whitespace.
            let kb = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { Int($0) }.first ?? 0
            return kb * 1024
        }
        return 0
    }
}
