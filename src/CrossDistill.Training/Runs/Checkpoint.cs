using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CrossDistill.Data.Loading;
using CrossDistill.Engine;
using CrossDistill.Engine.IO;
using CrossDistill.Engine.Optim;

namespace CrossDistill.Training.Runs;

/// <summary>
/// A run's full state in one safetensors file: the distiller's state dict (student and method
/// modules, "model.*"), the optimizer ("optim.*"), the EMA ("ema.*"), and as metadata the
/// schedule, the generator, the loader position, the trainer's progress and a SHA-256 of all
/// tensor data. Files are written to a temporary name and renamed, so a crash never leaves a
/// half-written checkpoint under a checkpoint's name; a damaged file is refused on load.
/// </summary>
public static class Checkpoint
{
    public const string Format = "crossdistill-checkpoint-1";
    public const string Folder = "checkpoints";

    /// <summary>checkpoints/ckpt-e0003-s00000450.safetensors: the epoch being trained (from 1) and the global step.</summary>
    public static string FileName(int epoch, long step) => $"ckpt-e{epoch:D4}-s{step:D8}.safetensors";

    /// <summary>The run's checkpoints, oldest first (by global step).</summary>
    public static IReadOnlyList<string> List(string runDir)
    {
        var folder = Path.Combine(runDir, Folder);
        if (!Directory.Exists(folder)) return Array.Empty<string>();
        return Directory.GetFiles(folder, "ckpt-e*-s*.safetensors").OrderBy(StepOf).ThenBy(f => f, StringComparer.Ordinal).ToList();
    }

    private static long StepOf(string path)
    {
        var name = Path.GetFileNameWithoutExtension(path);
        int s = name.LastIndexOf("-s", StringComparison.Ordinal);
        return s >= 0 && long.TryParse(name[(s + 2)..], NumberStyles.None, CultureInfo.InvariantCulture, out long step) ? step : -1;
    }

    public static void Save(string path, RunParts run, TrainingProgress progress)
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var meta = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = Format,
            ["method"] = run.Method.Name,
            ["architecture"] = run.Distiller.Student.ArchitectureName,
            ["loader"] = string.Join(",", run.TrainLoader.State.ToArray().Select(v => v.ToString(CultureInfo.InvariantCulture))),
            ["rng"] = string.Join(",", run.Rng.GetState().Select(v => v.ToString(CultureInfo.InvariantCulture))),
        };
        foreach (var (key, t) in run.Distiller.StateDict()) tensors["model." + key] = t;
        foreach (var (key, t) in run.Distiller.ExtraState()) tensors["extra." + key] = t;
        var optimizer = run.Optimizer.StateDict().WithPrefix("optim.");
        foreach (var (key, t) in optimizer.Tensors) tensors[key] = t;
        foreach (var (key, v) in optimizer.Metadata) meta[key] = v;
        foreach (var (key, v) in run.Scheduler.StateDict()) meta["scheduler." + key] = v;
        if (run.Ema is { } ema)
        {
            foreach (var (key, t) in ema.Model.StateDict()) tensors["ema." + key] = t;
            meta["ema_decay"] = ema.Decay.ToString("R", CultureInfo.InvariantCulture);
        }
        progress.Save(meta);
        meta["sha256"] = Checksum(tensors);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        Safetensors.Save(path, tensors, meta);
    }

    /// <summary>Restores <paramref name="run"/> from a checkpoint; a damaged or mismatched file is refused with a <see cref="RunException"/> and nothing is changed.</summary>
    public static TrainingProgress Load(string path, RunParts run)
    {
        Dictionary<string, Tensor> tensors;
        Dictionary<string, string> meta;
        try
        {
            tensors = Safetensors.Load(path, out meta);
        }
        catch (Exception e) when (e is SafetensorsException or IOException)
        {
            throw Damaged(path, e.Message);
        }
        try
        {
            if (meta.GetValueOrDefault("format") != Format) throw Damaged(path, $"it is not a CrossDistill checkpoint (format '{meta.GetValueOrDefault("format") ?? "none"}')");
            if (!meta.TryGetValue("sha256", out var expected) || expected != Checksum(tensors))
                throw Damaged(path, "its tensor data does not match the checksum it was written with");
            if (meta.GetValueOrDefault("method") != run.Method.Name)
                throw new RunException($"checkpoint '{path}' was written by method '{meta.GetValueOrDefault("method")}', the run uses '{run.Method.Name}'.");
            TrainingProgress progress;
            DataLoaderState loader;
            ulong[] rng;
            try
            {
                progress = TrainingProgress.Load(meta);
                loader = DataLoaderState.FromArray(meta["loader"].Split(',').Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray());
                rng = meta["rng"].Split(',').Select(v => ulong.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            }
            catch (Exception e) when (e is FormatException or KeyNotFoundException or OverflowException or ArgumentException)
            {
                throw Damaged(path, $"its metadata is incomplete ({e.Message})");
            }
            bool hasEma = tensors.Keys.Any(k => k.StartsWith("ema.", StringComparison.Ordinal));
            if (hasEma != run.Ema is not null)
                throw new RunException($"checkpoint '{path}' {(hasEma ? "has" : "has no")} EMA weights but the run's train.ema is {(run.Ema is null ? "off" : "on")}.");
            try
            {
                run.Distiller.LoadStateDict(Prefixed(tensors, "model."), source: $"'{path}'");
                run.Distiller.LoadExtraState(Prefixed(tensors, "extra."));
                run.Optimizer.LoadStateDict(OptimizerState.FromPrefixed("optim.", tensors, meta), $"'{path}'");
                run.Scheduler.LoadStateDict(meta.Where(kv => kv.Key.StartsWith("scheduler.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key["scheduler.".Length..], kv => kv.Value));
                run.Ema?.Model.LoadStateDict(Prefixed(tensors, "ema."), source: $"'{path}'");
                run.TrainLoader.State = loader;
            }
            catch (Exception e) when (e is ArgumentException or Engine.Nn.StateDictException)
            {
                throw new RunException($"checkpoint '{path}' does not fit this run: {e.Message}", e);
            }
            run.Rng.SetState(rng);
            return progress;
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    private static RunException Damaged(string path, string problem)
    {
        string? previous = null;
        var dir = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(path)));
        if (dir is not null)
        {
            var all = List(dir);
            int i = all.Select(Path.GetFullPath).ToList().IndexOf(Path.GetFullPath(path));
            if (i > 0) previous = all[i - 1];
        }
        string advice = previous is null
            ? "there is no earlier checkpoint to fall back on"
            : $"the previous checkpoint '{previous}' is untouched: move the damaged file away to resume from it";
        return new RunException($"checkpoint '{path}' is damaged and was not loaded: {problem}; {advice}.");
    }

    private static Dictionary<string, Tensor> Prefixed(Dictionary<string, Tensor> tensors, string prefix) =>
        tensors.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);

    /// <summary>SHA-256 over every tensor's name, dtype, shape and values, in name order.</summary>
    public static unsafe string Checksum(IReadOnlyDictionary<string, Tensor> tensors)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (key, tensor) in tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"{key}|{tensor.DType}|{string.Join("x", tensor.Shape)}|"));
            using var detached = tensor.Detach();
            using var dense = detached.Contiguous();
            int bytes = dense.Numel * (dense.DType == DType.Int64 ? 8 : 4);
            byte* data = dense.DType == DType.Int64 ? (byte*)dense.LongPtr : (byte*)dense.DataPtr;
            if (bytes > 0) hash.AppendData(new ReadOnlySpan<byte>(data, bytes));
        }
        return Convert.ToHexString(hash.GetHashAndReset());
    }
}
