"""Writes korean_search.json: the Korean search test set (issue 24), deterministic for its seed.

Run once by hand (``python benchmarks/data/make_korean_search.py``); the JSON is what the
benchmark and the tests read. Each item is a clip as a public body files it: a title (place
and what happened), operator notes, a camera name and a street address. Every part carries
the *concepts* a person means by it, and a query's relevant items are those whose concepts
include the query's: relevance is judged by meaning, not by the letters. So "사고" is
relevant to "차량 추돌" (a collision is an accident, though the word is absent) and not to
"시장실" (the mayor's office: 시장 there means mayor, not market). Neither tokenizer can
find the first, and substring matching will wrongly find the second: the set measures both.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

# (name as written, concepts)
PLACES = [
    ("남대문시장", {"market", "namdaemun"}), ("광장시장", {"market"}), ("통인시장", {"market"}),
    ("망원시장", {"market", "mangwon"}), ("서울시청", {"cityhall"}), ("서울시청 시장실", {"cityhall", "mayor"}),
    ("서울역", {"station", "seoulstation"}), ("강남역", {"station", "gangnam"}),
    ("홍대입구역", {"station", "hongdae"}), ("역삼동 주민센터", {"office", "gangnam"}),
    ("여의도공원", {"park"}), ("올림픽공원", {"park"}), ("남산공원", {"park", "namsan"}),
    ("한강시민공원", {"park", "hangang"}), ("중앙초등학교", {"school", "elementary"}),
    ("서울고등학교", {"school"}), ("세종대로사거리", {"crossing", "sejongdaero"}),
    ("종로3가교차로", {"crossing", "jongno"}), ("구청 공영주차장", {"parking", "public_parking"}),
    ("시민회관 지하주차장", {"parking"}), ("청계천 산책로", {"stream"}), ("구청 민원실", {"office", "petition"}),
    ("남대문로 지하보도", {"namdaemun", "underpass"}), ("잠실 한강공원", {"park", "hangang"}),
]
EVENTS = [
    ("소매치기", {"theft", "pickpocket"}), ("절도", {"theft"}), ("자전거 도난", {"theft", "bicycle"}),
    ("교통사고", {"accident"}), ("차량 추돌", {"accident", "collision"}), ("접촉사고", {"accident", "collision"}),
    ("무단횡단", {"jaywalking", "unauthorized"}), ("횡단보도 신호위반", {"crosswalk", "signal", "violation"}),
    ("화재", {"fire"}), ("연기 감지", {"fire", "smoke"}), ("쓰레기 무단투기", {"dumping", "unauthorized"}),
    ("불법주차", {"illegal_parking", "parking"}), ("주정차위반", {"illegal_parking", "parking", "violation"}),
    ("낙상", {"fall"}), ("쓰러진 행인", {"fall"}), ("폭행", {"assault"}), ("몸싸움", {"assault"}),
    ("실종아동 수색", {"missing", "child"}), ("침수", {"flood"}), ("집중호우 침수", {"flood", "rain"}),
    ("기물파손", {"vandalism"}), ("벽면 낙서", {"vandalism", "graffiti"}), ("음주운전 단속", {"drunk", "enforcement"}),
    ("야간 배회", {"loitering", "night"}), ("정문 출입 통제", {"gate", "entrance"}),
    ("출입구 혼잡", {"entrance", "crowd"}), ("입구 앞 혼잡", {"entrance", "crowd"}),
]
NOTES = [
    ("경찰 요청으로 보존 기간 연장", {"police", "preserve"}), ("112 신고 접수 후 확인", {"police", "report"}),
    ("피해자 진술과 시간 일치", {"victim"}), ("정보주체 열람 청구 접수", {"access_request"}),
    ("열람 일정 연기 요청", {"access_request", "postpone"}), ("야간 조도 낮음, 식별 어려움", {"night"}),
    ("보도자료 배포 전 검토", {"press"}), ("시청각 자료실 이관 예정", {"av_room"}),
    ("어린이보호구역 내 촬영", {"child", "school_zone"}), ("역사 안내판 부근", {"history_sign"}),
    ("관리사무소 확인 완료", {"checked"}), ("", set()), ("", set()), ("", set()),
]
# camera names: place short name, direction, number
DIRECTIONS = [("정문", {"gate"}), ("북측", set()), ("남측", set()), ("3번출구", {"exit3"}),
              ("2번 출입구", {"entrance"}), ("주차장 입구", {"parking", "entrance"}), ("동쪽", set())]
# district, its concept, streets in it
DISTRICTS = [("중구", "jung", ["남대문시장4길", "세종대로", "청계천로"]), ("종로구", "jongno_gu", ["종로", "창경궁로"]),
             ("마포구", "mapo", ["월드컵로", "망원로"]), ("강남구", "gangnam_gu", ["테헤란로", "강남대로"]),
             ("송파구", "songpa", ["올림픽로"]), ("영등포구", "yeongdeungpo", ["여의대로"])]
STREET_CONCEPTS = {"남대문시장4길": {"namdaemun"}, "세종대로": {"sejongdaero"}, "종로": {"jongno"},
                   "망원로": {"mangwon"}, "강남대로": {"gangnam"}}

QUERIES = [  # (text typed, concepts all required)
    ("시장", {"market"}), ("남대문시장", {"market", "namdaemun"}), ("남대문", {"namdaemun"}),
    ("사고", {"accident"}), ("교통사고", {"accident"}), ("추돌", {"collision"}), ("공원", {"park"}),
    ("주차", {"parking"}), ("불법주차", {"illegal_parking"}), ("주차장", {"parking"}), ("역", {"station"}),
    ("학교", {"school"}), ("초등학교", {"elementary"}), ("도난", {"theft"}), ("절도", {"theft"}),
    ("화재", {"fire"}), ("침수", {"flood"}), ("횡단보도", {"crosswalk"}), ("보도", {"crosswalk"}),
    ("신호위반", {"signal"}), ("위반", {"violation"}), ("민원", {"petition"}), ("종로", {"jongno"}),
    ("강남", {"gangnam"}), ("세종대로", {"sejongdaero"}), ("교차로", {"crossing"}), ("사거리", {"crossing"}),
    ("경찰", {"police"}), ("열람", {"access_request"}), ("보존", {"preserve"}), ("소매치기", {"pickpocket"}),
    ("자전거", {"bicycle"}), ("무단", {"unauthorized"}), ("투기", {"dumping"}), ("낙서", {"graffiti"}),
    ("파손", {"vandalism"}), ("폭행", {"assault"}), ("실종", {"missing"}), ("아동", {"child"}),
    ("호우", {"rain"}), ("연기", {"smoke"}), ("한강", {"hangang"}), ("공영주차장", {"public_parking"}),
    ("입구", {"entrance"}), ("출입구", {"entrance"}), ("정문", {"gate"}), ("3번출구", {"exit3"}),
    ("출구", {"exit3"}), ("음주", {"drunk"}), ("단속", {"enforcement"}), ("배회", {"loitering"}),
    ("야간", {"night"}), ("시청", {"cityhall"}), ("서울역", {"seoulstation"}), ("역사", {"history_sign"}),
    ("남산", {"namsan"}), ("혼잡", {"crowd"}), ("시장 소매치기", {"market", "pickpocket"}),
    ("공원 낙상", {"park", "fall"}), ("시장 화재", {"market", "fire"}),
    ("망원", {"mangwon"}), ("피해자", {"victim"}), ("쓰러진", {"fall"}), ("홍대", {"hongdae"}),
]


def build(n: int = 240, seed: int = 24) -> dict:
    rng = random.Random(seed)
    items = []
    for i in range(n):
        place, pc = PLACES[i % len(PLACES)]
        event, ec = rng.choice(EVENTS)
        note, nc = rng.choice(NOTES)
        direction, dc = rng.choice(DIRECTIONS)
        district, dk, streets = rng.choice(DISTRICTS)
        street = rng.choice(streets)
        short = place.split()[-1]
        camera = f"{short} {direction} {rng.randint(1, 9)}호기"
        address = f"서울특별시 {district} {street} {rng.randint(1, 300)}"
        concepts = pc | ec | nc | dc | STREET_CONCEPTS.get(street, set()) | {dk}
        if "gangnam_gu" in concepts:
            concepts.add("gangnam")
        items.append({"id": f"k{i:03d}", "title": f"{place} {event}", "notes": note, "camera": camera,
                      "address": address, "concepts": sorted(concepts)})
    queries = []
    for text, need in QUERIES:
        relevant = [it["id"] for it in items if need <= set(it["concepts"])]
        queries.append({"text": text, "concepts": sorted(need), "relevant": relevant})
    return {"about": __doc__.split("\n\n")[1].replace("\n", " "), "items": items, "queries": queries}


if __name__ == "__main__":
    out = Path(__file__).with_name("korean_search.json")
    out.write_text(json.dumps(build(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(out)
