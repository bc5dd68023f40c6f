"""Deterministic, realistic Vietnamese civil servants for the benchmarks.

``people(n, seed=…)`` yields ``Person(full_name, agency, leader)`` rows: a family name
drawn with roughly the national frequencies (Nguyễn about a third, then Trần, Lê, Phạm,
Hoàng/Huỳnh, Phan, Vũ/Võ, …), zero to three middle names (Văn/Thị and the common
compound ones), a given name with its tone marks, an agency abbreviation from
:data:`AGENCIES` weighted by staff size, and a leader flag (about 5 %).

Same ``n`` and ``seed``, same rows, on every machine and Python version (only
``random.Random`` with an explicit seed is used, and no set or dict iteration order).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate

__all__ = ["AGENCIES", "Agency", "Person", "full_name", "people"]

# (family name, weight in ‰): approximate national shares, the long tail grouped last.
FAMILY: Sequence[tuple[str, int]] = (
    ("Nguyễn", 340), ("Trần", 110), ("Lê", 95), ("Phạm", 70), ("Hoàng", 30), ("Huỳnh", 21),
    ("Phan", 45), ("Vũ", 22), ("Võ", 17), ("Đặng", 21), ("Bùi", 20), ("Đỗ", 14), ("Hồ", 13),
    ("Ngô", 13), ("Dương", 10), ("Lý", 5), ("Đinh", 12), ("Trịnh", 8), ("Đào", 7),
    ("Mai", 6), ("Trương", 7), ("Đoàn", 6), ("Lương", 5), ("Cao", 5), ("Hà", 5), ("Lâm", 4),
    ("Tạ", 3), ("Chu", 3), ("Lưu", 3), ("Tô", 3), ("Vương", 2), ("Quách", 2), ("Lại", 2),
    ("Kiều", 2), ("Thái", 2), ("Tống", 2), ("Lã", 1), ("Khúc", 1), ("Châu", 2), ("Triệu", 2),
    ("Phùng", 3), ("Nghiêm", 1), ("Hứa", 1), ("Đàm", 1), ("Tăng", 1), ("Thân", 1),
)

MALE_MIDDLE: Sequence[tuple[str, int]] = (
    ("Văn", 420), ("Hữu", 60), ("Đức", 70), ("Quốc", 50), ("Minh", 70), ("Thanh", 40),
    ("Xuân", 35), ("Công", 40), ("Đình", 45), ("Quang", 40), ("Mạnh", 15), ("Trọng", 20),
    ("Tuấn", 15), ("Hoàng", 20), ("Duy", 15), ("Anh", 15), ("Ngọc", 20), ("Gia", 10),
    ("Bảo", 10), ("Thế", 15), ("Tiến", 10), ("Hải", 10), ("Trung", 10), ("Khắc", 8),
    ("Viết", 7), ("Chí", 8), ("Phúc", 5),
)
FEMALE_MIDDLE: Sequence[tuple[str, int]] = (
    ("Thị", 520), ("Ngọc", 60), ("Thu", 45), ("Thanh", 45), ("Minh", 30), ("Kim", 30),
    ("Hồng", 35), ("Thúy", 20), ("Phương", 20), ("Bích", 15), ("Mai", 15), ("Diệu", 10),
    ("Khánh", 15), ("Hải", 15), ("Xuân", 15), ("Quỳnh", 10), ("Lan", 8), ("Bảo", 10),
    ("Tuyết", 8), ("Hoài", 10), ("Thùy", 15), ("Mỹ", 10), ("Ánh", 8), ("Như", 8),
)

MALE_GIVEN: Sequence[str] = (
    "Anh", "Bảo", "Bình", "Cường", "Chiến", "Công", "Dũng", "Duy", "Dương", "Đạt", "Định",
    "Đông", "Đức", "Giang", "Hải", "Hào", "Hậu", "Hiếu", "Hiển", "Hòa", "Hoàng", "Học",
    "Hùng", "Huy", "Hưng", "Khải", "Khang", "Khánh", "Khoa", "Kiên", "Lâm", "Lộc", "Long",
    "Luân", "Lực", "Mạnh", "Minh", "Nam", "Nghĩa", "Ngọc", "Nguyên", "Nhân", "Phong",
    "Phúc", "Phước", "Phương", "Quang", "Quân", "Quý", "Quyết", "Sang", "Sơn", "Tài", "Tâm",
    "Tân", "Thái", "Thắng", "Thanh", "Thành", "Thiện", "Thịnh", "Thọ", "Thông", "Tiến",
    "Toàn", "Trí", "Trọng", "Trung", "Trường", "Tú", "Tuấn", "Tùng", "Tuyên", "Việt",
    "Vinh", "Vĩnh", "Vũ", "Vương", "Xuân", "Yên",
)
FEMALE_GIVEN: Sequence[str] = (
    "An", "Anh", "Ánh", "Bích", "Châu", "Chi", "Diệp", "Diệu", "Dung", "Duyên", "Giang",
    "Hà", "Hạnh", "Hằng", "Hân", "Hiền", "Hoa", "Hòa", "Hồng", "Huế", "Huệ", "Huyền",
    "Hương", "Hường", "Khánh", "Lan", "Liên", "Liễu", "Linh", "Loan", "Ly", "Mai", "My",
    "Nga", "Ngân", "Nguyệt", "Ngọc", "Nhàn", "Nhi", "Nhung", "Oanh", "Phượng", "Phương",
    "Quyên", "Quỳnh", "Sen", "Tâm", "Thanh", "Thảo", "Thắm", "Thoa", "Thơ", "Thu", "Thúy",
    "Thủy", "Thư", "Thương", "Trang", "Trâm", "Trinh", "Tuyết", "Uyên", "Vân", "Vi", "Xuân",
    "Yến",
)

# How many middle names (0–3), in ‰: one is the norm, two is common, none or three rare.
MIDDLE_COUNT: Sequence[tuple[int, int]] = ((0, 30), (1, 700), (2, 240), (3, 30))


@dataclass(frozen=True)
class Agency:
    abbr: str
    name: str
    kind: str  # congvu.directory.models.AgencyKind value
    staff: int  # relative size, the weight of the agency when drawing people
    parent: str = ""  # abbreviation of the parent agency (units, communes), listed earlier


# About 60 agencies of a province the size of Ninh Bình: the People's Committee office,
# the departments (sở), sectoral boards, districts and cities, and under them some units
# and communes. A person's address uses the abbreviation of the agency they work in.
AGENCIES: Sequence[Agency] = (
    Agency("vpubnd", "Văn phòng UBND tỉnh", "province-dept", 120),
    Agency("vpdbnd", "Văn phòng Đoàn ĐBQH và HĐND tỉnh", "province-dept", 70),
    Agency("snv", "Sở Nội vụ", "province-dept", 110),
    Agency("stp", "Sở Tư pháp", "province-dept", 80),
    Agency("skhdt", "Sở Kế hoạch và Đầu tư", "province-dept", 90),
    Agency("stc", "Sở Tài chính", "province-dept", 110),
    Agency("sct", "Sở Công Thương", "province-dept", 120),
    Agency("snnptnt", "Sở Nông nghiệp và Phát triển nông thôn", "province-dept", 450),
    Agency("sgtvt", "Sở Giao thông vận tải", "province-dept", 160),
    Agency("sxd", "Sở Xây dựng", "province-dept", 90),
    Agency("stnmt", "Sở Tài nguyên và Môi trường", "province-dept", 180),
    Agency("stttt", "Sở Thông tin và Truyền thông", "province-dept", 60),
    Agency("sldtbxh", "Sở Lao động - Thương binh và Xã hội", "province-dept", 200),
    Agency("svhtt", "Sở Văn hóa và Thể thao", "province-dept", 150),
    Agency("sdl", "Sở Du lịch", "province-dept", 70),
    Agency("skhcn", "Sở Khoa học và Công nghệ", "province-dept", 70),
    Agency("sgddt", "Sở Giáo dục và Đào tạo", "province-dept", 1800),
    Agency("syt", "Sở Y tế", "province-dept", 1500),
    Agency("ttt", "Thanh tra tỉnh", "province-dept", 50),
    Agency("bdt", "Ban Dân tộc", "province-dept", 30),
    Agency("bqlkcn", "Ban Quản lý các khu công nghiệp", "province-dept", 60),
    Agency("bqldadtxd", "Ban QLDA đầu tư xây dựng các công trình dân dụng", "province-dept", 50),
    Agency("bqldagt", "Ban QLDA đầu tư xây dựng các công trình giao thông", "province-dept", 50),
    Agency("ttcdstt", "Trung tâm Chuyển đổi số và Truyền thông", "unit", 30, "skhcn"),
    Agency("ttxttdl", "Trung tâm Xúc tiến Đầu tư, Thương mại và Du lịch", "province-dept", 25),
    Agency("bvdktinh", "Bệnh viện Đa khoa tỉnh", "unit", 400, "syt"),
    Agency("cdcnb", "Trung tâm Kiểm soát bệnh tật tỉnh", "unit", 120, "syt"),
    Agency("dhhl", "Trường Đại học Hoa Lư", "province-dept", 150),
    Agency("cdcgnb", "Trường Cao đẳng Cơ giới Ninh Bình", "unit", 80, "sldtbxh"),
    Agency("ptth", "Đài Phát thanh và Truyền hình tỉnh", "province-dept", 90),
    Agency("bnb", "Báo Ninh Bình", "province-dept", 50),
    Agency("ttythnq", "Trung tâm Y tế huyện Nho Quan", "unit", 120, "syt"),
    Agency("qtdnb", "Quỹ Đầu tư phát triển tỉnh", "province-dept", 20),
    Agency("tpnb", "UBND thành phố Ninh Bình", "district", 350),
    Agency("tptd", "UBND thành phố Tam Điệp", "district", 200),
    Agency("hnq", "UBND huyện Nho Quan", "district", 300),
    Agency("hgv", "UBND huyện Gia Viễn", "district", 260),
    Agency("hhl", "UBND huyện Hoa Lư", "district", 220),
    Agency("hym", "UBND huyện Yên Mô", "district", 230),
    Agency("hyk", "UBND huyện Yên Khánh", "district", 240),
    Agency("hks", "UBND huyện Kim Sơn", "district", 300),
    Agency("xninhhai", "UBND xã Ninh Hải", "commune", 25, "hhl"),
    Agency("xtruongyen", "UBND xã Trường Yên", "commune", 25, "hhl"),
    Agency("xninhxuan", "UBND xã Ninh Xuân", "commune", 25, "hhl"),
    Agency("xgiasinh", "UBND xã Gia Sinh", "commune", 25, "hgv"),
    Agency("xcucphuong", "UBND xã Cúc Phương", "commune", 25, "hnq"),
    Agency("xkimdong", "UBND xã Kim Đông", "commune", 25, "hks"),
    Agency("xyenthang", "UBND xã Yên Thắng", "commune", 25, "hym"),
    Agency("xkhanhthien", "UBND xã Khánh Thiện", "commune", 25, "hyk"),
    Agency("pninhkhanh", "UBND phường Ninh Khánh", "commune", 30, "tpnb"),
    Agency("pdongthanh", "UBND phường Đông Thành", "commune", 30, "tpnb"),
    Agency("pbacson", "UBND phường Bắc Sơn", "commune", 30, "tptd"),
    Agency("ptrungson", "UBND phường Trung Sơn", "commune", 30, "tptd"),
    Agency("ttme", "UBND thị trấn Me", "commune", 25, "hgv"),
    Agency("ttphatdiem", "UBND thị trấn Phát Diệm", "commune", 25, "hks"),
    Agency("ttyenninh", "UBND thị trấn Yên Ninh", "commune", 25, "hyk"),
    Agency("ttqtmt", "Trung tâm Quan trắc tài nguyên và môi trường", "unit", 40, "stnmt"),
    Agency("bqltrangan", "Ban Quản lý Quần thể danh thắng Tràng An", "province-dept", 60),
    Agency("ccthuy", "Chi cục Thủy lợi", "unit", 40, "snnptnt"),
    Agency("cckl", "Chi cục Kiểm lâm", "unit", 90, "snnptnt"),
    Agency("ttdvhcc", "Trung tâm Phục vụ hành chính công", "unit", 40, "vpubnd"),
)


@dataclass(frozen=True)
class Person:
    full_name: str
    agency: str
    leader: bool


def _cumulative(weights: Sequence[int]) -> list[int]:
    return list(accumulate(weights))


_FAMILY_NAMES = [f for f, _w in FAMILY]
_FAMILY_CUM = _cumulative([w for _f, w in FAMILY])
_MIDDLE_COUNTS = [c for c, _w in MIDDLE_COUNT]
_MIDDLE_COUNT_CUM = _cumulative([w for _c, w in MIDDLE_COUNT])
_MIDDLES = {
    "m": ([m for m, _w in MALE_MIDDLE], _cumulative([w for _m, w in MALE_MIDDLE])),
    "f": ([m for m, _w in FEMALE_MIDDLE], _cumulative([w for _m, w in FEMALE_MIDDLE])),
}
_GIVEN = {"m": MALE_GIVEN, "f": FEMALE_GIVEN}


def full_name(rng: random.Random) -> str:
    """One full name: family name, 0–3 distinct middle names, given name."""
    sex = "m" if rng.random() < 0.5 else "f"
    family = rng.choices(_FAMILY_NAMES, cum_weights=_FAMILY_CUM)[0]
    count = rng.choices(_MIDDLE_COUNTS, cum_weights=_MIDDLE_COUNT_CUM)[0]
    names, cum = _MIDDLES[sex]
    middles: list[str] = []
    while len(middles) < count:
        m = rng.choices(names, cum_weights=cum)[0]
        # Văn / Thị stand first when present; never the same middle twice.
        if m in middles or (middles and m in ("Văn", "Thị")):
            continue
        middles.append(m)
    given = rng.choice(_GIVEN[sex])
    return " ".join([family, *middles, given])


def people(n: int, *, seed: int = 2026, agencies: Sequence[Agency] = AGENCIES,
           leader_share: float = 0.05) -> Iterator[Person]:
    """``n`` civil servants, deterministic for a given ``seed``."""
    rng = random.Random(seed)
    abbrs = [a.abbr for a in agencies]
    cum = _cumulative([a.staff for a in agencies])
    for _i in range(n):
        name = full_name(rng)
        agency = rng.choices(abbrs, cum_weights=cum)[0]
        yield Person(name, agency, rng.random() < leader_share)


if __name__ == "__main__":
    import sys

    for p in people(int(sys.argv[1]) if len(sys.argv) > 1 else 20):
        print(f"{p.full_name:<32} {p.agency:<12} {'leader' if p.leader else ''}")
