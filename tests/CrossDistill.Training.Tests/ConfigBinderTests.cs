using CrossDistill.Training.Distillers;
using CrossDistill.Training.Config;

namespace CrossDistill.Training.Tests;

public class ConfigBinderTests
{
    private static RunConfig Bind(string yaml, params string[] overrides)
    {
        var tree = ConfigLoader.ParseText(yaml);
        ConfigLoader.ApplyOverrides(tree, overrides);
        return ConfigBinder.Bind<RunConfig>(tree);
    }

    [Fact]
    public void BindsNestedKeysEnumsListsAndOverrides()
    {
        var c = Bind("""
            name: run1
            seed: 3
            model: { name: resnet18_cifar, options: { width_mult: 0.5 } }
            optimizer: { name: adamw, lr: 0.001, betas: [0.8, 0.9] }
            schedule: { name: multistep, milestones: [3, 6] }
            method: { name: kd, params: { temperature: 2 } }
            """, "train.epochs=7", "optimizer.lr=0.01");
        Assert.Equal("run1", c.Name);
        Assert.Equal(3UL, c.Seed);
        Assert.Equal(0.5, c.Model.Options["width_mult"]);
        Assert.Equal(OptimizerKind.Adamw, c.Optimizer.Name);
        Assert.Equal(0.01f, c.Optimizer.Lr);
        Assert.Equal(new[] { 0.8f, 0.9f }, c.Optimizer.Betas);
        Assert.Equal(new[] { 3, 6 }, c.Schedule.Milestones);
        Assert.Equal(7, c.Train.Epochs);
        Assert.Equal("method.params", c.Method.Params!.Path);
        Assert.Equal("2", c.Method.Params.Get("temperature")!.Scalar);
    }

    [Fact]
    public void AFloatAtItsRangesBoundIsAccepted()
    {
        // KD's temperature is a float with range [0.01, 100]; 0.01 rounds to 0.0099999998 as a float.
        var run = Bind("""
            name: x
            model: { name: m }
            method: { name: kd, params: { temperature: 0.01 } }
            """);
        DistillerRegistry.BindParams(DistillerRegistry.Get("kd"), run.Method.Params);
        var below = Bind("""
            name: x
            model: { name: m }
            method: { name: kd, params: { temperature: 0.0099 } }
            """);
        Assert.Throws<ConfigException>(() => DistillerRegistry.BindParams(DistillerRegistry.Get("kd"), below.Method.Params));
    }

    [Fact]
    public void ReportsEveryProblemWithItsKeyPath()
    {
        var e = Assert.Throws<ConfigException>(() => Bind("""
            name: x
            model: { name: m, dropp_rate: 0.1 }
            train: { epochs: ten, batch_size: 0 }
            optimizer: { name: lion }
            """));
        Assert.Contains(e.Problems, p => p.StartsWith("model.dropp_rate: unknown key") && p.Contains("drop_rate"));
        Assert.Contains(e.Problems, p => p.StartsWith("train.epochs: 'ten' is not an integer"));
        Assert.Contains(e.Problems, p => p.StartsWith("train.batch_size: 0 is out of range"));
        Assert.Contains(e.Problems, p => p.StartsWith("optimizer.name: 'lion' is not one of sgd, adamw"));
        Assert.Equal(4, e.Problems.Count);
    }

    [Fact]
    public void MissingRequiredKeysAndBadOverridesAreNamed()
    {
        var e = Assert.Throws<ConfigException>(() => Bind("seed: 1"));
        Assert.Contains(e.Problems, p => p == "name: required key is missing");
        Assert.Contains(e.Problems, p => p == "model.name: required key is missing");
        var o = Assert.Throws<ConfigException>(() => Bind("name: a\nmodel: {name: m}", "train.epochs"));
        Assert.Contains("train.epochs", o.Message);
    }

    [Fact]
    public void YamlSyntaxErrorsAndMissingFilesNameTheFile()
    {
        var missing = Assert.Throws<ConfigException>(() => ConfigLoader.Load<RunConfig>("/nonexistent/run.yaml"));
        Assert.Contains("/nonexistent/run.yaml", missing.Message);
        var path = Path.Combine(Path.GetTempPath(), $"cd-bad-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, "name: [unclosed\n");
        try
        {
            var bad = Assert.Throws<ConfigException>(() => ConfigLoader.Load<RunConfig>(path));
            Assert.Contains(path, bad.Message);
            Assert.Contains("line", bad.Message);
        }
        finally { File.Delete(path); }
    }
}
