import Foundation

/// The live progress line of a long command: redrawn in place on stderr in bar style (so stdout
/// stays a clean log), printed as one line per update in lines style.
struct ProgressLine {
    let inPlace: Bool
    private var visible = false

    init(style: ProgressStyle) { inPlace = style == .bar }

    /// Seconds between redraws: a bar may move often, a log should not fill up.
    var interval: Double { inPlace ? 0.25 : 10 }

    mutating func show(_ text: String) {
        if inPlace {
            FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
            visible = true
        } else {
            print(text)
            fflush(nil)
        }
    }

    /// Clears an in-place line before other output is printed.
    mutating func finish() {
        if visible { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)); visible = false }
    }
}
