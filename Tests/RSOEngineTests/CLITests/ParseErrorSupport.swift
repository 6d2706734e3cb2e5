@testable import RSOCLI

/// The message `rso` prints for these arguments, or nil when they parse.
func errorMessage(_ args: [String]) -> String? {
    do {
        _ = try RSOCommand.parseAsRoot(args)
        return nil
    } catch {
        return RSOCommand.message(for: error)
    }
}
