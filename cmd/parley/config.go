package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strings"
)

// settle fills every flag that was not given on the command line from,
// in order: the environment variable PARLEY_<NAME>, the file named by
// PARLEY_<NAME>_FILE (for secrets), and the config file (lines of
// "name = value", '#' comments). NAME is the flag name in upper case with
// dashes as underscores.
func settle(fs *flag.FlagSet, configFile string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	file := map[string]string{}
	if configFile != "" {
		var err error
		if file, err = readConfig(configFile); err != nil {
			return err
		}
		for name := range file {
			if fs.Lookup(name) == nil {
				return fmt.Errorf("config %s: unknown setting %q", configFile, name)
			}
		}
	}
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil || f.Name == "config" {
			return
		}
		env := "PARLEY_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s: %w", env, e)
			}
			return
		}
		if path, ok := os.LookupEnv(env + "_FILE"); ok {
			b, e := os.ReadFile(path)
			if e != nil {
				err = fmt.Errorf("%s_FILE: %w", env, e)
				return
			}
			if e := f.Value.Set(strings.TrimSpace(string(b))); e != nil {
				err = fmt.Errorf("%s_FILE: %w", env, e)
			}
			return
		}
		if v, ok := file[f.Name]; ok {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("config %s: %s: %w", configFile, f.Name, e)
			}
		}
	})
	return err
}

func readConfig(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("config %s:%d: want name = value", path, n)
		}
		out[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"`)
	}
	return out, sc.Err()
}
