"""Project types: an extensible vocabulary with Chinese synonyms and parents.

A rule on a parent type covers its sub-types (a rule on ``industrial``
covers ``chemical``).  Groups such as ``two_high`` (两高) expand to several
types.  Planners extend the vocabulary in a rule catalogue's
``project_types:`` section.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from layers.base import clean_key, format_rows
from spatial.errors import DataWarning, RuleError, visible

__all__ = [
    "ProjectTypes", "DEFAULT_TYPES", "label_zh", "VERDICTS", "VERDICT_ZH", "VERDICT_EIA", "VERDICT_RANK", "verdict_rank",
    "site_keys", "major_project_values", "MAJOR_COLUMNS",
]  # fmt: skip

#: Verdicts from mildest to worst; the worst wins per site.
VERDICTS = ("compatible", "notice", "restricted", "prohibited")
VERDICT_ZH = {"compatible": "符合", "notice": "关注", "restricted": "限制", "prohibited": "禁止"}
VERDICT_RANK = {v: i for i, v in enumerate(VERDICTS)}
#: The conclusion words of an EIA report (环评符合性结论) for each internal verdict:
#: restricted = permitted only with approval and the listed conditions; notice = cannot be concluded yet.
VERDICT_EIA = {"compatible": "符合", "notice": "待核实", "restricted": "有条件符合", "prohibited": "不符合"}
_VERDICT_SYNONYMS = {
    **{v: v for v in VERDICTS},
    **{zh: v for v, zh in VERDICT_ZH.items()},
    "禁止类": "prohibited",
    "限制类": "restricted",
    "允许": "compatible",
}


def verdict_rank(value: str) -> int:
    """Rank of a verdict (Chinese or English), for worst-wins.

    Parameters
    ----------
    value : str
        Verdict name.

    Returns
    -------
    int
        0 (compatible) .. 3 (prohibited).
    """
    key = _VERDICT_SYNONYMS.get(clean_key(value))
    if key is None:
        raise RuleError(
            f"未知的结论 '{value}'；可用：{', '.join(VERDICTS)}（{'/'.join(VERDICT_ZH.values())}）",
            f"unknown verdict '{value}'; valid: {', '.join(VERDICTS)}",
        )
    return VERDICT_RANK[key]


#: name -> (parent or None, Chinese synonyms)
_BASE: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "industrial": (None, ("工业", "工业项目", "制造业", "工业企业")),
    "thermal_power": ("industrial", ("火电", "燃煤电厂", "火力发电", "燃煤发电", "电厂")),
    "petrochemical": ("industrial", ("石化", "石油化工", "炼油", "石油加工")),
    "chemical": ("industrial", ("化工", "化学工业", "化学原料", "化学制品", "重化工")),
    "steel": ("industrial", ("钢铁", "炼钢", "炼铁")),
    "nonferrous_smelting": ("industrial", ("有色冶炼", "有色金属冶炼", "有色", "冶炼")),
    "building_materials": ("industrial", ("建材", "水泥", "陶瓷", "石材", "石材加工")),
    # Types the plans name on their own (003 L711, L762, L875; 004 L272).
    "flat_glass": ("building_materials", ("平板玻璃", "玻璃", "浮法玻璃")),
    "coking": ("industrial", ("焦化", "炼焦")),
    "printing": ("industrial", ("包装印刷", "印刷")),
    "coating": ("industrial", ("工业涂装", "涂装", "喷涂")),
    "pharmaceutical": ("industrial", ("医药制造", "制药", "医药")),
    "lead_acid_battery": ("industrial", ("铅酸蓄电池", "铅酸蓄电池制造", "蓄电池")),
    "e_waste_dismantling": ("industrial", ("废旧电子拆解", "电子废物拆解", "拆解")),
    "hazardous_waste": ("industrial", ("危险废物处置", "危险废物处理处置", "危废处置", "危险废物")),
    # Sectors parks list as their 主导产业 (003 L876: 食品加工、生物医药; 新材料 L880).
    "electronics": ("industrial", ("电子", "电子信息", "电子材料", "电子产品制造")),
    "new_materials": ("industrial", ("新材料", "新材料产业")),
    "food_processing": ("industrial", ("食品加工", "农产品加工", "食品制造")),
    "electroplating": ("industrial", ("电镀",)),
    "dyeing": ("industrial", ("印染", "纺织印染")),
    "tanning": ("industrial", ("制革", "鞣革", "皮革")),
    "papermaking": ("industrial", ("造纸", "化学制浆", "制浆")),
    "mining": (None, ("采矿", "采石", "采砂", "取土", "矿山", "矿产资源开发", "采矿业")),
    "nonferrous_mining": ("mining", ("有色金属矿采选", "有色金属采选", "有色矿采选")),
    "hydropower": (None, ("小水电", "水电", "水电站")),
    "livestock": (None, ("畜禽养殖", "养殖", "养猪场", "畜牧")),
    "reclamation": (None, ("围填海", "填海", "围海", "填海造地", "围海造地", "围垦")),
    "linear_infrastructure": (None, ("线性基础设施", "线性工程", "道路", "公路", "铁路", "管线", "输电线路", "管道", "输油管道", "输气管道", "电力线路")),
    "municipal_utility": (None, ("市政设施", "市政", "污水处理", "垃圾处理", "市政公用设施")),
    "water_supply": (None, ("供水设施", "供水", "水厂", "取水", "自来水厂")),
    "ecological": (None, ("生态修复", "景观", "湿地保护", "生态保护修复", "生态建设", "生态景观")),
    "research": (None, ("科研监测", "科研", "监测", "科学研究", "科学实验", "教学研究")),
    "tourism": (None, ("旅游", "旅游设施", "文旅", "生态旅游")),
    "residential": (None, ("城镇建设", "住宅", "居住", "房地产", "城镇开发")),
    "commercial": (None, ("商业", "商服", "商业服务", "大型商业网点", "农贸市场", "集贸市场")),
    "agriculture": (None, ("农业", "种植", "农业设施", "农田建设", "高标准农田")),
    "national_strategic": (None, ("国家重大战略项目", "国家重大项目", "重大战略项目", "国家战略")),
}

# Types the national exemptions name (issue 13): each is a clause's own category, so a rule can
# treat it apart from its parent (a 旅游配套服务设施 is not a resort; 原住居民 farming is not new farmland).
_BASE.update(
    {
        "tourism_service": ("tourism", ("旅游配套服务设施", "配套性服务设施", "参观旅游设施", "科普宣教设施", "游客服务中心", "观景台", "游步道")),
        "resort": ("tourism", ("旅游度假区", "度假区", "度假酒店", "度假村", "旅游地产", "酒店")),
        "flood_control": ("municipal_utility", ("防洪设施", "防洪工程", "防洪", "堤防", "防洪堤")),
        "telecom": ("municipal_utility", ("通讯设施", "通信设施", "通讯", "通信基站", "基站", "通信线路")),
        "indigenous_agriculture": ("agriculture", ("原住居民种植养殖", "原住居民农业", "原住民种植", "原住居民生产生活设施")),
        "orchard": ("agriculture", ("林果业", "果园", "经济林果")),
        "fish_pond": ("agriculture", ("挖塘养鱼", "鱼塘", "池塘养殖")),
        "patrol": (None, ("管护巡护", "保护执法", "巡护设施", "管护设施")),
        "disaster_prevention": (None, ("防灾减灾", "防灾减灾救灾", "应急救援", "应急抢险")),
        "sewage_outfall": (None, ("排污口", "入河排污口", "排放口")),
        "strategic_reclamation": ("reclamation", ("国家重大战略项目围填海", "国家重大战略围填海")),
    }
)

# ---------------------------------------------------------------------------
# Planner types: what county bureaus actually write in 项目类型 columns.
# Each hangs under the parent whose rules it must obey (a rule on `livestock`
# covers 生猪养殖); where the land-use class is ambiguous the stricter parent
# is chosen, so a doubt never turns into a quiet 符合.  Synonyms listed here
# that were a parent's synonym before now name the more specific child.
#: name -> (parent or None, Chinese synonyms)
_PLANNER: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "energy": (None, ("能源", "能源项目", "发电", "新能源")),
    "photovoltaic": ("energy", ("光伏", "光伏电站", "光伏发电", "太阳能发电", "农光互补", "渔光互补", "林光互补")),
    "wind_power": ("energy", ("风电", "风力发电", "风电场", "风电项目")),
    "energy_storage": ("energy", ("储能", "储能电站", "新型储能")),
    "substation": ("energy", ("变电站", "变电所", "升压站", "开关站", "换流站")),
    "power_transmission": ("linear_infrastructure", ("输变电", "输变电工程", "输电线路", "电力线路", "架空线路")),
    "fuel_station": ("commercial", ("加油站", "加气站", "加油加气站", "加油加气合建站", "充电站", "加氢站")),
    "warehousing": (None, ("仓储", "仓库", "仓储设施", "物流仓储用地")),
    "logistics": ("warehousing", ("物流仓储", "物流", "物流园", "物流园区", "冷链物流", "货物集散地")),
    "sewage_treatment": ("municipal_utility", ("污水处理厂", "污水处理", "污水处理站", "污水厂", "净水厂")),
    "solid_waste": ("municipal_utility", ("垃圾处理", "固体废物处置", "固废处置", "垃圾处理厂", "垃圾转运站")),
    "waste_incineration": ("solid_waste", ("垃圾焚烧", "垃圾焚烧发电", "生活垃圾焚烧", "焚烧厂", "垃圾焚烧厂")),
    "landfill": ("solid_waste", ("垃圾填埋", "垃圾填埋场", "填埋场", "生活垃圾填埋")),
    "quarry": ("mining", ("采石场", "采石", "石场", "石料开采")),
    "residential_estate": ("residential", ("住宅小区", "小区", "居住小区", "商品住宅", "安置房")),
    "pig_farm": ("livestock", ("生猪养殖", "养猪场", "猪场", "生猪养殖场")),
    "public_service": (None, ("公共服务设施", "公共设施", "公共管理与公共服务")),
    "hospital": ("public_service", ("医院", "卫生院", "医疗机构", "诊所", "社区卫生服务中心")),
    "school": ("public_service", ("学校", "中学", "小学", "幼儿园", "中小学", "职业学校")),
    "port": (None, ("港口码头", "港口", "码头", "港区", "作业区码头")),
    # Coast and sea (issue 26): each with a parent, so the parent's rules apply.
    "offshore_wind": ("wind_power", ("海上风电", "海上风电场", "海上风力发电")),
    "mariculture": ("agriculture", ("海水养殖", "海水养殖场", "近海养殖", "网箱养殖", "海上养殖")),
    "sea_bridge": ("linear_infrastructure", ("跨海桥梁", "跨海大桥", "跨海通道")),
    "ocean_outfall": ("sewage_outfall", ("排海管道", "离岸排放管", "深海排放管", "入海排污口", "排海工程")),
    "sea_sand_mining": ("mining", ("海砂开采", "海砂开采项目", "海砂")),
    # 数据中心 sits on 工业用地 and is energy-intensive: the industrial rules apply.
    "data_center": ("industrial", ("数据中心", "大数据中心", "算力中心", "数据机房")),
    "tourism_lodging": ("tourism", ("农家乐", "民宿", "乡村旅游", "乡村民宿")),
    # What the vocabulary does not know: general rules still apply, type-specific ones cannot.
    "other": (None, ("其他", "其它", "其他项目", "未分类")),
}
# ---------------------------------------------------------------------------
# Words published 准入清单 use for types already in the vocabulary (issue 29): the clause
# parser (spatial/clauses.py) finds types only through these synonyms. No new types here.
#: name -> more Chinese synonyms
_LIST_SYNONYMS: dict[str, tuple[str, ...]] = {
    "mining": ("挖沙", "挖砂", "采砂场", "矿产开采", "矿产资源开采"),
    "hydropower": ("小水电站", "水电开发"),
    "livestock": ("畜禽养殖场", "畜禽规模养殖", "规模化畜禽养殖", "养殖场"),
    "thermal_power": ("燃煤火电", "煤电"),
    "building_materials": ("砖瓦", "砖瓦窑"),
    "papermaking": ("制浆造纸",),
    "tanning": ("皮革鞣制",),
    "electroplating": ("电镀加工",),
}
# ---------------------------------------------------------------------------

#: Site columns read as the 国家重大项目 attribute (issue 21: a site attribute, not a type).
MAJOR_COLUMNS = ("major_project", "国家重大项目", "重大项目", "是否国家重大项目", "zdxm")
_YES = {"yes", "y", "true", "1", "是", "属于", "国家重大项目", "重大项目"}
_NO = {"no", "n", "false", "0", "否", "不属于", "非"}


def major_project_values(values: pd.Series | np.ndarray) -> np.ndarray:
    """Normalise a 国家重大项目 column to ``yes`` / ``no`` / ``unknown`` (blank and anything else: unknown).

    Parameters
    ----------
    values : Series or ndarray
        Raw values (是/否, yes/no, 1/0 ...).

    Returns
    -------
    ndarray of str
        ``yes``, ``no`` or ``unknown`` per value; unknown is never read as yes.
    """
    folded = pd.Series(np.asarray(values, dtype=object)).astype("string").fillna("").map(clean_key)
    return np.where(folded.isin(_YES), "yes", np.where(folded.isin(_NO), "no", "unknown")).astype(object)


def site_keys(sites: pd.DataFrame, major_project: str | None = None) -> np.ndarray:
    """Rule key per site: the canonical type, ``|line`` for a line geometry, ``|major`` for a 国家重大项目.

    A line site of a pipeline or cable type is a 管线 (公路法第五十六条 埋设管线、电缆); a
    point or polygon of the same type is a facility, judged as a building where the law
    says 建筑物.  国家重大项目 comes from a ``major_project`` column (是/否/不详), else from
    ``major_project`` given for the run, else from the type 国家重大战略项目 itself; unknown is
    never read as yes.

    Parameters
    ----------
    sites : DataFrame
        Prepared sites with ``project_type`` and (for a GeoDataFrame) geometry.
    major_project : {'yes', 'no', 'unknown'}, optional
        Run-wide 国家重大项目 status for sites without a column value.

    Returns
    -------
    ndarray of str
        Keys such as ``water_supply``, ``water_supply|line``, ``industrial|major``.
    """
    types = sites["project_type"].to_numpy(dtype=str) if len(sites) else np.zeros(0, dtype=str)
    n = len(types)
    try:
        geoms = np.asarray(sites.geometry.values, dtype=object)
    except AttributeError:  # a plain table: no geometry, no line facet
        geoms = None
    dims = shapely.get_dimensions(geoms) if geoms is not None and n else np.full(n, -1)
    column = next((c for c in MAJOR_COLUMNS if c in sites.columns), None)
    major = major_project_values(sites[column]) if column is not None else np.full(n, "unknown", dtype=object)
    if major_project is not None:
        fill = major_project_values(np.array([major_project]))[0]
        major = np.where(major == "unknown", fill, major)
    major = (major == "yes") | (types == "national_strategic")
    keys = np.char.add(np.char.add(types.astype(str), np.where(dims == 1, "|line", "")), np.where(major, "|major", ""))
    return keys.astype(object)


def label_zh(name: str) -> str:
    """Return the Chinese name of a built-in project type (the name itself when it has none).

    Parameters
    ----------
    name : str
        Canonical type, e.g. ``pig_farm``.

    Returns
    -------
    str
        E.g. ``生猪养殖``.
    """
    entry = _BASE.get(name) or _PLANNER.get(name)
    return entry[1][0] if entry and entry[1] else name


#: Named groups usable anywhere a type is (rule applies_to / except / by_type).
_GROUPS = {
    "two_high": (
        ("两高", "两高项目", "高耗能高排放"),
        ("thermal_power", "petrochemical", "chemical", "steel", "nonferrous_smelting", "building_materials"),
    ),
    # 003 L762: industries discharging heavy metals or persistent organic pollutants.
    "heavy_metal": (
        ("涉重金属", "重金属", "涉重金属行业", "重点行业"),
        (
            "nonferrous_mining", "nonferrous_smelting", "petrochemical", "chemical", "coking", "electroplating",
            "tanning", "pharmaceutical", "lead_acid_battery", "e_waste_dismantling", "hazardous_waste",
        ),
    ),
    # 法典第三百二十条: projects that discharge pollutants by their nature (wastewater), banned in a
    # level-2 drinking-water zone whatever their size: hospitals, livestock farms, sewage plants,
    # landfills and every industry (manufacturing discharges wastewater unless shown otherwise).
    "discharging": (
        ("排放污染物的建设项目", "排污项目", "涉水排污项目"),
        ("hospital", "livestock", "sewage_treatment", "landfill", "solid_waste", "industrial", "mining"),
    ),
    # 法典第四百八十一条: waste storage, use and disposal facilities and landfills.
    "waste_facility": (
        ("固体废物设施", "固废设施", "固体废物集中贮存处置设施"),
        ("solid_waste", "landfill", "hazardous_waste", "e_waste_dismantling"),
    ),
    # 公路安全保护条例第十四条: 新建村镇、开发区、学校和货物集散地、大型商业网点、农贸市场等公共场所.
    "road_setback": (
        ("公路第十四条场所", "村镇学校集散地"),
        ("school", "residential", "commercial", "logistics", "warehousing"),
    ),
    # 003 L875 / 004 L272: new or expanded projects only in parks with a 规划环评.
    "park_only": (
        ("须入园", "入园类", "须入园项目"),
        ("petrochemical", "chemical", "coking", "nonferrous_smelting", "flat_glass"),
    ),
}


@dataclass
class ProjectTypes:
    """The project-type vocabulary.

    Attributes
    ----------
    parents : dict
        Type -> parent type (or None).
    synonyms : dict
        Folded synonym -> type or group name.
    groups : dict
        Group name -> member types.
    """

    parents: dict[str, str | None] = field(default_factory=dict)
    synonyms: dict[str, str] = field(default_factory=dict)
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def default(cls) -> ProjectTypes:
        """Return the built-in vocabulary."""
        pt = cls()
        for name, (parent, syns) in {**_BASE, **_PLANNER}.items():
            pt.add(name, parent, syns)
        for name, syns in _LIST_SYNONYMS.items():
            pt.add(name, None, syns)  # keeps the type's parent
        for name, (syns, members) in _GROUPS.items():
            pt.groups[name] = members
            for s in (name, *syns):
                pt.synonyms[clean_key(s)] = name
        return pt

    def copy(self) -> ProjectTypes:
        """Return an independent copy (a catalogue may extend it)."""
        return ProjectTypes(dict(self.parents), dict(self.synonyms), dict(self.groups))

    def add(self, name: str, parent: str | None = None, synonyms: Iterable[str] = ()) -> None:
        """Add (or extend) a type.

        Parameters
        ----------
        name : str
            Canonical type name.
        parent : str, optional
            Parent type.
        synonyms : iterable of str
            Chinese/English synonyms.
        """
        if parent is not None and parent not in self.parents:
            raise RuleError(
                f"项目类型 {name} 的上级类型 {parent} 不存在；可用：{', '.join(self.parents)}",
                f"parent type {parent} of {name} is unknown; valid: {', '.join(self.parents)}",
            )
        self.parents[name] = parent if parent is not None else self.parents.get(name)
        for s in (name, *synonyms):
            self.synonyms[clean_key(s)] = name

    @property
    def names(self) -> list[str]:
        """Canonical type names."""
        return list(self.parents)

    def resolve(self, value: str) -> str | None:
        """Canonical type or group for a name or synonym (None if unknown).

        Parameters
        ----------
        value : str
            A type name or synonym.

        Returns
        -------
        str or None
            Canonical name.
        """
        return self.synonyms.get(clean_key(value))

    def expand(self, values: Iterable[str], *, where: str = "") -> set[str]:
        """Expand names/synonyms/groups to canonical types (groups to members).

        Parameters
        ----------
        values : iterable of str
            Names, synonyms or groups (``all`` is kept as ``all``).
        where : str
            Context for the error message.

        Returns
        -------
        set of str
            Canonical names.
        """
        out, bad = self.parse(values)
        if bad:
            raise RuleError(
                f"{where}未知的项目类型：{', '.join(map(str, bad))}。可用类型：{', '.join(self.names)}；分组：{', '.join(self.groups)}",
                f"{where}unknown project type(s): {', '.join(map(str, bad))}; valid: {', '.join(self.names)}",
            )
        return out

    def parse(self, values: Iterable[str]) -> tuple[set[str], list[str]]:
        """Expand names/synonyms/groups, returning unknown terms instead of raising.

        Parameters
        ----------
        values : iterable of str
            Names, synonyms or groups (``all`` is kept as ``all``).

        Returns
        -------
        (set of str, list of str)
            Canonical names, and the terms not recognised.
        """
        out: set[str] = set()
        unknown: list[str] = []
        for v in values:
            if clean_key(v) in ("all", "全部", "所有", "*"):
                out.add("all")
                continue
            r = self.resolve(v)
            if r is None:
                unknown.append(v)
            elif r in self.groups:
                out.update(self.groups[r])
            else:
                out.add(r)
        return out, unknown

    def lineage(self, name: str) -> list[str]:
        """Return the type and its ancestors, most specific first.

        Parameters
        ----------
        name : str
            Canonical type.

        Returns
        -------
        list of str
            E.g. ``['chemical', 'industrial']``.
        """
        chain = []
        cur: str | None = name
        while cur is not None and cur not in chain:
            chain.append(cur)
            cur = self.parents.get(cur)
        return chain

    def normalise(
        self,
        values: pd.Series,
        *,
        source: str = "",
        rows: np.ndarray | None = None,
        strict: bool = False,
    ) -> pd.Series:
        """Map a column of project types to canonical names.

        Parameters
        ----------
        values : Series
            Raw project types (Chinese or English).
        source : str
            File name for the messages.
        rows : ndarray of str, optional
            Row labels as the user sees them (spreadsheet row, CSV line),
            aligned with ``values``; default 1, 2, ...
        strict : bool, default False
            Raise on unknown or empty types instead of mapping them to ``other``.

        Returns
        -------
        Series of str
            Canonical types; unknown and empty values become ``other`` (with
            one :class:`~spatial.errors.DataWarning` listing them) unless strict.

        Raises
        ------
        RuleError
            With ``strict``, listing every distinct unknown value with its rows and the valid choices.
        """
        # Fold each distinct value once: 10^6 sites usually carry a handful of types.
        uniq = pd.unique(values.astype(object))
        folded = values.map(dict(zip(uniq, map(clean_key, uniq))))
        mapped = folded.map(self.synonyms)
        is_group = mapped.isin(list(self.groups))
        bad = (mapped.isna() | is_group).to_numpy()
        if not bad.any():
            return mapped.astype(str)
        labels = np.asarray(rows, dtype=object) if rows is not None else np.arange(1, len(values) + 1).astype(str).astype(object)
        shown = np.where(folded.to_numpy(dtype=object)[bad] == "", "(空/empty)", values.astype("string").fillna("").to_numpy(dtype=object)[bad])
        by_value = pd.Series(labels[bad]).groupby(pd.Series(shown), sort=False).agg(list)
        listing = "；".join(f"{v}（行 {format_rows(r, 10)}）" for v, r in list(by_value.items())[:20])
        if len(by_value) > 20:
            listing += f"；…（另 {len(by_value) - 20} 种）"
        listing = visible(listing)  # a pasted zero-width space is why "chemical\u200b" is unknown: show it (web too)
        if strict:
            choices = "、".join(f"{n}（{label_zh(n)}）" if label_zh(n) != n else n for n in self.names)
            raise RuleError(
                f"{source}项目类型缺失或无法识别（值及行号）：{listing}。可用类型：{choices}。"
                "可用 --type-map 把本单位的类型名对应到以上类型，或去掉 --strict-types 把它们按“其他”(other) 处理。",
                f"{source}missing or unknown project types (value and rows): {listing}; valid: "
                f"{', '.join(self.names)}; map them with --type-map, or drop --strict-types to screen them as `other`",
            )
        warnings.warn(
            f"{source}{int(bad.sum())} 个地块的项目类型无法识别，按“其他”(other) 筛查，只适用不分类型的规则：{listing}。"
            "可用 --type-map 对应到已知类型；--strict-types 则报错停止。"
            f" / {int(bad.sum())} sites have unknown project types and are screened as `other` "
            "(only rules for all types apply); map them with --type-map, or use --strict-types to stop",
            DataWarning,
            stacklevel=3,
        )
        out = np.array(mapped.astype(object).to_numpy(), dtype=object)
        out[bad] = "other"
        return pd.Series(out, index=values.index).astype(str)

    def resolve_option(self, value: str, option: str = "--project-type") -> str:
        """Resolve one type given on the command line; unknown is always an error naming the option.

        Parameters
        ----------
        value : str
            The option's value.
        option : str
            The option's name, for the message.

        Returns
        -------
        str
            Canonical type.

        Raises
        ------
        RuleError
            Naming the option, close matches and the valid choices.
        """
        found = self.resolve(value)
        if found is not None and found not in self.groups:
            return found
        close = difflib.get_close_matches(clean_key(value), list(self.synonyms), n=3, cutoff=0.5)
        hint = f"您是不是要用：{'、'.join(close)}？" if close else ""
        why = "是类型分组，不是单一类型" if found in self.groups else "无法识别"
        raise RuleError(
            f"{option} {value} {why}。{hint}可用类型：{'、'.join(f'{n}（{label_zh(n)}）' for n in self.names)}。",
            f"{option} {value}: {'a group, not a single type' if found in self.groups else 'unknown project type'}"
            f"{'; did you mean ' + ', '.join(close) + '?' if close else ''}; valid: {', '.join(self.names)}",
        )

    def with_map(self, mapping: Mapping[str, str], *, source: str = "") -> ProjectTypes:
        """Return a copy in which a bureau's own type names are synonyms of ecozone types.

        Parameters
        ----------
        mapping : mapping
            User value -> ecozone type (name, synonym; not a group).
        source : str
            Where the mapping came from (``--type-map`` file), for messages.

        Returns
        -------
        ProjectTypes
            The extended vocabulary.

        Raises
        ------
        RuleError
            When a target is not a known type.
        """
        out = self.copy()
        bad = []
        for user, target in mapping.items():
            canon = self.resolve(str(target))
            if canon is None or canon in self.groups:
                bad.append(f"{user} → {target}")
                continue
            out.synonyms[clean_key(str(user))] = canon
        if bad:
            raise RuleError(
                f"{source}类型对照中的目标类型无法识别：{format_rows(bad, 20)}。可用类型：{'、'.join(self.names)}。",
                f"{source}type map targets are not ecozone types: {format_rows(bad, 20)}; valid: {', '.join(self.names)}",
            )
        return out

    def ancestry_matrix(self, types: np.ndarray, targets: Mapping[str, object]) -> np.ndarray:
        """For each site type, the value of the most specific key in ``targets``.

        Parameters
        ----------
        types : ndarray of str
            Canonical site types.
        targets : mapping
            Type -> value (e.g. a verdict), keys canonical.

        Returns
        -------
        ndarray of object
            Value per site (None where no key matches its lineage).
        """
        uniq, inv = np.unique(types, return_inverse=True)
        per = np.array(
            [next((targets[t] for t in self.lineage(u) if t in targets), None) for u in uniq], dtype=object
        )
        return per[inv] if len(uniq) else np.array([], dtype=object)


DEFAULT_TYPES = ProjectTypes.default()
