package main

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// The chart is drawn with gonum.org/v1/plot and written as SVG: one row per
// action, latency percentiles against clients on the left, runs/s against
// clients on the right, toolhost and the floor in each.

var (
	colToolhost = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff} // blue
	colFloor    = color.RGBA{R: 0xe6, G: 0x7e, B: 0x22, A: 0xff} // orange
	dashed      = []vg.Length{vg.Points(5), vg.Points(3)}
)

var actionTitles = map[string]string{
	"noop":      "noop (read, empty input)",
	"sleep10ms": "sleep 10 ms (read)",
	"echo64k":   "echo 64 KiB in and out (create)",
}

func writeChart(path string, res *Results) error {
	var actions []string
	for _, a := range res.Settings.Actions {
		if res.findLoad("toolhost", a, "closed", res.Settings.Concurrency[0], 0) != nil ||
			res.findLoad("floor", a, "closed", res.Settings.Concurrency[0], 0) != nil {
			actions = append(actions, a)
		}
	}
	if len(actions) == 0 {
		return nil // nothing measured (interrupted early)
	}
	rows := make([][]*plot.Plot, len(actions))
	for j, a := range actions {
		lp, err := latencyPlot(res, a)
		if err != nil {
			return err
		}
		tp, err := throughputPlot(res, a)
		if err != nil {
			return err
		}
		rows[j] = []*plot.Plot{lp, tp}
	}
	const w, rowH, head = 860, 270, 44
	img := vgsvg.New(vg.Points(w), vg.Points(float64(rowH*len(actions)+head)))
	dc := draw.New(img)
	m := res.Machine
	title := text.Style{Color: color.Black, Font: font.From(plot.DefaultFont, 13), Handler: plot.DefaultTextHandler, XAlign: draw.XCenter}
	sub := title
	sub.Font = font.From(plot.DefaultFont, 9)
	top := dc.Max.Y
	dc.FillText(title, vg.Point{X: vg.Points(w / 2), Y: top - 16}, "toolhost vs the floor: POST /v1/actions/{id}/run over loopback HTTP, closed loop")
	dc.FillText(sub, vg.Point{X: vg.Points(w / 2), Y: top - 32}, fmt.Sprintf("%d × %s, load avg %s → %s, %s per point, %s",
		m.CPUs, m.CPUModel, m.LoadBefore, m.LoadAfter, secs(res.Settings.Duration), m.Date.Format("2006-01-02")))
	body := draw.Crop(dc, 0, 0, 0, -vg.Points(head))
	tiles := draw.Tiles{Rows: len(actions), Cols: 2, PadX: vg.Points(28), PadY: vg.Points(22),
		PadLeft: vg.Points(8), PadRight: vg.Points(12), PadBottom: vg.Points(6), PadTop: vg.Points(4)}
	canvases := plot.Align(rows, tiles, body)
	for j := range rows {
		for i := range rows[j] {
			rows[j][i].Draw(canvases[j][i])
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := img.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// series is one line: concurrency against a value.
func series(res *Results, target, action string, val func(LoadResult) float64) plotter.XYs {
	var xy plotter.XYs
	for _, c := range res.Settings.Concurrency {
		if l := res.findLoad(target, action, "closed", c, 0); l != nil && val(*l) > 0 {
			xy = append(xy, plotter.XY{X: float64(c), Y: val(*l)})
		}
	}
	return xy
}

func newPlot(title, ylabel string, res *Results) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(11)
	p.X.Label.Text = "concurrent clients (1 = sequential)"
	p.Y.Label.Text = ylabel
	p.X.Scale = plot.LogScale{}
	var ticks plot.ConstantTicks
	cs := slices.Clone(res.Settings.Concurrency)
	slices.Sort(cs)
	for _, c := range cs {
		ticks = append(ticks, plot.Tick{Value: float64(c), Label: fmt.Sprint(c)})
	}
	p.X.Tick.Marker = ticks
	p.X.Min, p.X.Max = float64(cs[0])/1.25, float64(cs[len(cs)-1])*1.25
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	p.Legend.ThumbnailWidth = vg.Points(22)
	p.Legend.Padding = vg.Points(1)
	p.Legend.XOffs = vg.Points(6)
	p.Legend.YOffs = -vg.Points(20) // below the title, inside the data area
	return p
}

func addLine(p *plot.Plot, xy plotter.XYs, c color.Color, dash []vg.Length, shape draw.GlyphDrawer, name string) error {
	if len(xy) == 0 {
		return nil
	}
	l, pts, err := plotter.NewLinePoints(xy)
	if err != nil {
		return err
	}
	l.Color, l.Width, l.Dashes = c, vg.Points(1.6), dash
	pts.Color, pts.Shape, pts.Radius = c, shape, vg.Points(2.5)
	p.Add(l, pts)
	p.Legend.Add(name, l, pts)
	return nil
}

func latencyPlot(res *Results, action string) (*plot.Plot, error) {
	p := newPlot(actionTitles[action]+": latency", "latency (log scale)", res)
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = durationTicks{}
	lo, hi := math.Inf(1), 0.0
	for _, s := range []struct {
		target string
		col    color.Color
		pct    string
		val    func(LoadResult) float64
		dash   []vg.Length
		shape  draw.GlyphDrawer
	}{
		{"toolhost", colToolhost, "p50", func(l LoadResult) float64 { return l.Latency.P50 }, nil, draw.CircleGlyph{}},
		{"toolhost", colToolhost, "p99", func(l LoadResult) float64 { return l.Latency.P99 }, dashed, draw.TriangleGlyph{}},
		{"floor", colFloor, "p50", func(l LoadResult) float64 { return l.Latency.P50 }, nil, draw.CircleGlyph{}},
		{"floor", colFloor, "p99", func(l LoadResult) float64 { return l.Latency.P99 }, dashed, draw.TriangleGlyph{}},
	} {
		xy := series(res, s.target, action, s.val)
		for _, v := range xy {
			lo, hi = min(lo, v.Y), max(hi, v.Y)
		}
		if err := addLine(p, xy, s.col, s.dash, s.shape, s.target+" "+s.pct); err != nil {
			return nil, err
		}
	}
	if hi > 0 {
		// Room above the lines for the legend.
		p.Y.Min, p.Y.Max = lo/1.5, hi*6
	}
	return p, nil
}

func throughputPlot(res *Results, action string) (*plot.Plot, error) {
	p := newPlot(actionTitles[action]+": throughput", "runs/s (history on for toolhost)", res)
	hi := 0.0
	for _, s := range []struct {
		target string
		col    color.Color
	}{{"toolhost", colToolhost}, {"floor", colFloor}} {
		xy := series(res, s.target, action, func(l LoadResult) float64 { return l.RunsPerSec })
		for _, v := range xy {
			hi = max(hi, v.Y)
		}
		if err := addLine(p, xy, s.col, nil, draw.CircleGlyph{}, s.target); err != nil {
			return nil, err
		}
	}
	p.Y.Min = 0
	if hi > 0 {
		p.Y.Max = hi * 1.3
	}
	p.Y.Tick.Marker = rateTicks{}
	return p, nil
}

// durationTicks labels a log axis in microseconds with 1-2-5 steps as
// "200 µs", "1 ms", "50 ms".
type durationTicks struct{}

func (durationTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for dec := math.Pow10(int(math.Floor(math.Log10(lo)))); dec <= hi; dec *= 10 {
		for _, m := range []float64{1, 2, 5} {
			v := dec * m
			if v >= lo && v <= hi {
				ts = append(ts, plot.Tick{Value: v, Label: axisDur(v)})
			}
		}
		for m := 3.0; m < 10; m++ {
			if v := dec * m; m != 5 && v >= lo && v <= hi {
				ts = append(ts, plot.Tick{Value: v}) // minor
			}
		}
	}
	return ts
}

// axisDur is a round tick value in microseconds as "200 µs", "5 ms", "2 s".
func axisDur(v float64) string {
	switch {
	case v < 1000:
		return fmt.Sprintf("%g µs", v)
	case v < 1e6:
		return fmt.Sprintf("%g ms", v/1000)
	}
	return fmt.Sprintf("%g s", v/1e6)
}

// rateTicks labels runs/s with thousands separators.
type rateTicks struct{}

func (rateTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = withCommas(int64(math.Round(ts[i].Value)))
		}
	}
	return ts
}
