using System.Text.Json;
using CrossDistill.Training.Runs;
using CrossDistill.Training.Tests.Support;

namespace CrossDistill.Training.Tests;

/// <summary>The train/distill/eval/methods/config commands through the CLI's entry point: output, messages and exit codes.</summary>
public class CliTests
{
    private static string WriteConfig(TempFolder temp, string file, string yaml)
    {
        string path = temp.File(file);
        File.WriteAllText(path, yaml);
        return path;
    }

    [Fact]
    public void AnUnknownKeyIsRejectedWithItsKeyPath()
    {
        using var temp = new TempFolder();
        string config = WriteConfig(temp, "bad.yaml", TestRuns.Yaml("bad", temp.Path) + "\nextra_key: 1\n");
        var (code, _, error) = TestRuns.Cli("train", "--config", config, "--set", "train.epochz=3");
        Assert.Equal(2, code);
        Assert.StartsWith("error: Invalid config", error);
        Assert.Contains("extra_key: unknown key", error);
        Assert.Contains("train.epochz: unknown key (known keys: epochs,", error);
        Assert.False(Directory.Exists(Path.Combine(temp.Path, "bad")));
    }

    [Fact]
    public void AWrongTypeAndAnOutOfRangeValueAreRejectedWithTheirKeyPaths()
    {
        using var temp = new TempFolder();
        string config = WriteConfig(temp, "bad.yaml", TestRuns.Yaml("bad", temp.Path));
        var (code, _, error) = TestRuns.Cli("train", "--config", config, "--set", "train.batch_size=lots", "--set", "optimizer.lr=-1", "--set", "method.params.temperature=4");
        Assert.Equal(2, code);
        Assert.Contains("train.batch_size: 'lots' is not an integer", error);
        Assert.Contains("optimizer.lr: -1 is out of range [0, 10]", error);

        var (code2, _, error2) = TestRuns.Cli("distill", "--config", config, "--set", "method.name=kd", "--set", "method.params.temperature=hot", "--set", "method.params.beta=1");
        Assert.Equal(2, code2);
        Assert.Contains("method.params.temperature: 'hot' is not a number", error2);
        Assert.Contains("method.params.beta: unknown key (known keys: temperature, alpha, ce_weight)", error2);
    }

    [Fact]
    public void DistillWithoutATeacherIsRejected()
    {
        using var temp = new TempFolder();
        string config = WriteConfig(temp, "kd.yaml", TestRuns.Yaml("kd", temp.Path, method: "kd"));
        var (code, _, error) = TestRuns.Cli("distill", "--config", config);
        Assert.Equal(2, code);
        Assert.Contains("teacher: method 'kd' needs a teacher: set teacher.run", error);

        var (code2, _, error2) = TestRuns.Cli("distill", "--config", config, "--set", "teacher.run=" + temp.File("no_such_run"));
        Assert.Equal(2, code2);
        Assert.Contains("teacher.run: the run directory", error2);
        Assert.Contains("does not exist", error2);

        var (code3, _, error3) = TestRuns.Cli("distill", "--config", config, "--set", "teacher.name=tiny_cnn", "--set", "teacher.weights=" + temp.File("missing.safetensors"));
        Assert.Equal(2, code3);
        Assert.Contains("teacher.weights: the file", error3);

        var (code4, _, error4) = TestRuns.Cli("train", "--config", config);
        Assert.Equal(2, code4);
        Assert.Contains("`crossdistill distill`", error4);
    }

    [Fact]
    public void TrainThenDistillThenEvaluateEndToEnd()
    {
        using var temp = new TempFolder();
        string teacherConfig = WriteConfig(temp, "teacher.yaml", TestRuns.Yaml("teacher", temp.Path, epochs: 2));
        var (code, output, error) = TestRuns.Cli("train", "--config", teacherConfig, "--set", "optimizer.lr=0.1");
        Assert.True(code == 0, output + error);
        Assert.Contains("starting run 'teacher'", output);
        Assert.Contains("epoch 2/2", output);
        Assert.Contains("accuracy: best", output);
        string teacherDir = Path.Combine(temp.Path, "teacher");
        Assert.True(File.Exists(Path.Combine(teacherDir, RunBuilder.StudentFile)));

        string studentConfig = WriteConfig(temp, "kd.yaml", TestRuns.Yaml("kd", temp.Path, model: "tiny_vit", method: "kd", epochs: 1) + $"\nteacher:\n  run: \"{teacherDir}\"\n");
        var (code2, output2, error2) = TestRuns.Cli("distill", "--config", studentConfig, "--set", "optimizer.name=adamw", "--set", "optimizer.lr=0.002", "--set", "method.params.temperature=2");
        Assert.True(code2 == 0, output2 + error2);
        Assert.Contains("method kd, student tiny_vit", output2);
        Assert.Contains("teacher: tiny_cnn from", output2);
        Assert.Contains("loss_kl", output2);
        string kdDir = Path.Combine(temp.Path, "kd");
        var log = new MetricsLog(kdDir);
        log.ResumeAt(long.MaxValue);
        var epoch = log.Records.Single(r => r.Kind == "epoch");
        Assert.True(epoch.Has("train/loss_kl") && epoch.Has("train/loss_ce"));
        Assert.Equal(epoch["train/loss_ce"] + epoch["train/loss_kl"], epoch["train/loss_total"], 5);
        Assert.Contains("temperature: 2", File.ReadAllText(Path.Combine(kdDir, RunBuilder.ResolvedConfigFile)));

        var (code3, output3, error3) = TestRuns.Cli("eval", "--run", kdDir, "--json");
        Assert.True(code3 == 0, output3 + error3);
        var json = JsonDocument.Parse(output3).RootElement;
        Assert.Equal(40, json.GetProperty("count").GetInt32());
        Assert.Equal(epoch["val/accuracy"], json.GetProperty("accuracy").GetDouble(), 9);
        Assert.Equal(10, json.GetProperty("confusion").GetArrayLength());
        Assert.Equal(40, json.GetProperty("confusion").EnumerateArray().SelectMany(r => r.EnumerateArray()).Sum(v => v.GetInt32()));

        var (code4, output4, error4) = TestRuns.Cli("eval", "--model", "tiny_cnn", "--weights", Path.Combine(teacherDir, RunBuilder.StudentFile), "--dataset", "shapes", "--image-size", "16", "--split", "silhouette");
        Assert.True(code4 == 0, output4 + error4);
        Assert.Contains("on shapes/silhouette", output4);
        Assert.Contains("accuracy: ", output4);
        Assert.Contains("confusion matrix", output4);

        var (code5, _, error5) = TestRuns.Cli("eval", "--model", "tiny_vit", "--weights", Path.Combine(teacherDir, RunBuilder.StudentFile), "--dataset", "shapes", "--image-size", "16");
        Assert.Equal(2, code5);
        Assert.Contains("cannot load", error5);
    }

    [Fact]
    public void MethodsAndConfigDefaultsListEveryKey()
    {
        var (code, output, _) = TestRuns.Cli("methods");
        Assert.Equal(0, code);
        Assert.Contains("vanilla: ", output);
        Assert.Contains("kd: ", output);
        Assert.Contains("method.params.temperature = 4", output);
        Assert.Contains("method.params.alpha = 1", output);

        var (code2, output2, _) = TestRuns.Cli("config", "defaults");
        Assert.Equal(0, code2);
        foreach (var key in new[] { "name = \"\"", "seed = 0", "model.name", "teacher.run", "dataset.augment.mixup = 0", "optimizer.lr = 0.05", "schedule.warmup_epochs = 0", "train.epochs = 10", "train.ema = 0", "train.keep_checkpoints = 2" })
            Assert.Contains(key, output2);
    }
}
