import Foundation

/// Finding the data: which directory, and which files in it.
enum DataDirectory {
    /// The subfolder the official archives unpack to, also accepted under the given directory.
    static func subfolder(for format: DatasetFormat) -> String {
        switch format {
        case .idx: return "mnist"
        case .cifar10: return "cifar-10-batches-bin"
        }
    }

    /// The file whose presence decides between the directory itself and its subfolder.
    static func markerFile(for format: DatasetFormat) -> String {
        switch format {
        case .idx: return IDXReader.trainImages
        case .cifar10: return CIFAR10Reader.trainFiles[0]
        }
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    /// `directory` if it holds the format's files, else its conventional subfolder if that does;
    /// otherwise `directory` (the missing-file error then names it).
    static func locateFiles(for format: DatasetFormat, in directory: String) throws -> String {
        let dir = (directory as NSString).expandingTildeInPath
        guard isDirectory(dir) else {
            throw DataError(.missingDirectory, file: dir,
                            "data directory does not exist or is not a directory; expected the "
                                + "\(format.rawValue) files in it; \(DataSources.hint(for: format))")
        }
        let marker = markerFile(for: format)
        if FileBytes.locate(marker, in: dir) != nil { return dir }
        let sub = (dir as NSString).appendingPathComponent(subfolder(for: format))
        if isDirectory(sub), FileBytes.locate(marker, in: sub) != nil { return sub }
        return dir
    }

    /// Path of `name` (or `name.gz`) in `directory`, or a missing-file error saying where to get it.
    static func requireFile(_ name: String, _ what: String, in directory: String, format: DatasetFormat) throws -> String {
        if let path = FileBytes.locate(name, in: directory) { return path }
        let sub = subfolder(for: format)
        throw DataError(.missingFile, file: (directory as NSString).appendingPathComponent(name),
                        "not found: expected the \(what) file \(name) or \(name).gz in \(directory) "
                            + "(or in its \(sub)/ subfolder); \(DataSources.hint(for: format))")
    }
}

extension DatasetSplits {
    /// The Debian package dataset-fashion-mnist installs its IDX files here.
    public static let debianFashionMNISTDirectory = DataSources.debianFashionMNIST

    /// The data directory to use: `flag` (e.g. --data-dir) if given, else the RSO_DATA environment
    /// variable, else — for `.idx` only — the Debian Fashion-MNIST directory if it exists.
    /// Throws a `DataError` that says how to provide the data when none applies.
    public static func resolveDirectory(flag: String?, environment: [String: String], format: DatasetFormat) throws -> String {
        if let flag, !flag.isEmpty { return (flag as NSString).expandingTildeInPath }
        if let env = environment["RSO_DATA"], !env.isEmpty { return (env as NSString).expandingTildeInPath }
        if format == .idx, DataDirectory.isDirectory(debianFashionMNISTDirectory) {
            return debianFashionMNISTDirectory
        }
        throw DataError(.missingDirectory, file: "data directory",
                        "none given for \(format.rawValue) data: pass --data-dir DIR or set RSO_DATA=DIR "
                            + "(a directory holding the files, or their \(DataDirectory.subfolder(for: format))/ "
                            + "subfolder); \(DataSources.hint(for: format))")
    }
}
