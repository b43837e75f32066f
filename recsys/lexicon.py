"""Word lists for the built-in intent parser (English and Chinese).

Kept apart from :mod:`recsys.intent` so the rules there read as logic, and so the lists can
be reviewed and extended in one place. Every pattern is a regular expression fragment;
English fragments are wrapped in word boundaries by the parser, Chinese ones are not.
"""

from __future__ import annotations

#: (pattern, genres it signals when liked, genres it signals when disliked).
#: The third item exists for compounds: disliking "romantic comedies" is a dislike of
#: the romance, not of comedy.
GENRE_TERMS_EN: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    (r"rom[\s-]?coms?|romantic[\s-]comed(?:y|ies)", ("Comedy", "Romance"), ("Romance",)),
    (r"sci[\s-]?fi|science[\s-]fiction|scifi|space[\s-]operas?|cyberpunk|futuristic|dystopian|dystopias?"
     r"|outer[\s-]space|aliens?|robots?", ("Sci-Fi",), ("Sci-Fi",)),
    (r"horrors?|scary|scare[sd]?|gory|gore|slashers?|creepy|spooky|frightening|terrifying|zombies?"
     r"|haunted|ghost[\s-]stor(?:y|ies)", ("Horror",), ("Horror",)),
    (r"comed(?:y|ies)|comedic|funny|funnier|hilarious|humou?r(?:ous)?|laughs?|laughing|sitcoms?",
     ("Comedy",), ("Comedy",)),
    (r"romance|romances|romantic|love[\s-]stor(?:y|ies)|chick[\s-]flicks?", ("Romance",), ("Romance",)),
    (r"action|action[\s-]packed|actions", ("Action",), ("Action",)),
    (r"adventures?|adventurous", ("Adventure",), ("Adventure",)),
    (r"animation|animated|cartoons?|anime", ("Animation",), ("Animation",)),
    (r"kids?|children|children's|kid[\s-]friendly|family[\s-]friendly|family", ("Children",),
     ("Children",)),
    (r"crime|crimes|heists?|gangsters?|mafia|mobsters?|criminals?", ("Crime",), ("Crime",)),
    (r"documentar(?:y|ies)|docu[\s-]?series", ("Documentary",), ("Documentary",)),
    (r"dramas?|dramatic|tear[\s-]?jerkers?", ("Drama",), ("Drama",)),
    (r"fantasy|fantasies|magical|wizards?|dragons?|fairy[\s-]tales?", ("Fantasy",), ("Fantasy",)),
    (r"film[\s-]noirs?|noir", ("Film-Noir",), ("Film-Noir",)),
    (r"musicals?|sing[\s-]alongs?", ("Musical",), ("Musical",)),
    (r"myster(?:y|ies)|whodunn?its?|detectives?", ("Mystery",), ("Mystery",)),
    (r"thrillers?|suspense|suspenseful", ("Thriller",), ("Thriller",)),
    (r"war|wars|wwii|ww2|world[\s-]war|military", ("War",), ("War",)),
    (r"westerns?|cowboys?|wild[\s-]west", ("Western",), ("Western",)),
    (r"imax", ("IMAX",), ("IMAX",)),
]

GENRE_TERMS_ZH: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    (r"科幻", ("Sci-Fi",), ("Sci-Fi",)),
    (r"恐怖|鬼片|血腥|僵尸|丧尸", ("Horror",), ("Horror",)),
    (r"喜剧|搞笑|幽默", ("Comedy",), ("Comedy",)),
    (r"爱情|浪漫", ("Romance",), ("Romance",)),
    (r"动作", ("Action",), ("Action",)),
    (r"冒险", ("Adventure",), ("Adventure",)),
    (r"动画|卡通|动漫", ("Animation",), ("Animation",)),
    (r"儿童|家庭|亲子", ("Children",), ("Children",)),
    (r"犯罪|黑帮", ("Crime",), ("Crime",)),
    (r"纪录", ("Documentary",), ("Documentary",)),
    (r"剧情|文艺", ("Drama",), ("Drama",)),
    (r"奇幻|魔幻", ("Fantasy",), ("Fantasy",)),
    (r"黑色电影", ("Film-Noir",), ("Film-Noir",)),
    (r"歌舞|音乐剧", ("Musical",), ("Musical",)),
    (r"悬疑|推理|侦探", ("Mystery",), ("Mystery",)),
    (r"惊悚", ("Thriller",), ("Thriller",)),
    (r"战争", ("War",), ("War",)),
    (r"西部", ("Western",), ("Western",)),
]

#: Plot words in Chinese → the English keywords they stand for, in order of preference (the
#: first one the catalogue's keyword vocabulary has is used; none: the phrase is ignored). The
#: encoder reads English only, so a Chinese request's plot words reach the keyword term, the
#: plot-word index and the embedded text ("… movies about space, aliens") through this list.
KEYWORDS_ZH: dict[str, tuple[str, ...]] = {
    "太空": ("space",), "宇宙": ("space",), "外星人": ("aliens", "alien"), "外星": ("aliens", "alien"),
    "机器人": ("robots", "robot"), "时间旅行": ("time travel",), "穿越时空": ("time travel",),
    "超级英雄": ("superhero",), "恐龙": ("dinosaurs", "dinosaur"), "吸血鬼": ("vampire", "vampires"),
    "鬼魂": ("ghost", "ghosts"), "幽灵": ("ghost", "ghosts"), "魔法": ("magic",), "巫师": ("wizard",),
    "海盗": ("pirate",), "间谍": ("spy", "espionage"), "抢劫": ("heist",), "劫案": ("heist",),
    "盗窃": ("heist",), "复仇": ("revenge",), "黑客": ("hacker",), "世界末日": ("apocalypse",),
    "末日": ("post-apocalyptic", "apocalypse"), "反乌托邦": ("dystopia",), "梦境": ("dream", "dreams"),
    "烧脑": ("mind-bending", "twist ending"), "反转": ("twist ending", "plot twist"),
    "二战": ("world war ii",), "第二次世界大战": ("world war ii",), "越战": ("vietnam war",),
    "越狱": ("prison escape", "prison"), "监狱": ("prison",), "体育": ("sports",), "拳击": ("boxing",),
    "足球": ("soccer", "football"), "篮球": ("basketball",), "音乐": ("music",), "舞蹈": ("dance", "dancing"),
    "公路": ("road trip",), "友情": ("friendship",), "成长": ("coming of age",), "高中": ("high school",),
    "校园": ("high school",), "婚礼": ("wedding",), "圣诞": ("christmas",), "黑手党": ("mafia",),
    "连环杀手": ("serial killer",), "鲨鱼": ("shark",), "怪兽": ("monster",), "海洋": ("ocean",),
    "狗": ("dog",), "猫": ("cat",), "真实事件": ("based on a true story",),
    "真实故事": ("based on a true story",), "武士": ("samurai",), "侦探": ("detective",),
    "谋杀": ("murder",), "警察": ("police", "cop"), "杀手": ("hitman", "assassin"), "宝藏": ("treasure",),
    "荒岛": ("island",), "丛林": ("jungle",), "沙漠": ("desert",), "生存": ("survival",),
    "灾难": ("disaster",), "地震": ("earthquake",), "火山": ("volcano",), "病毒": ("virus",),
    "瘟疫": ("epidemic", "pandemic"),
}

#: Genre words in French, Spanish, German and Italian (the encoder reads English only, so a
#: French request is understood through these and not through zero-shot genres).
GENRE_TERMS_EU: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    (r"science[\s-]fiction|ciencia[\s-]ficci[oó]n|fantascienza", ("Sci-Fi",), ("Sci-Fi",)),
    (r"horreur|d'?épouvante|terror|de miedo|gruselfilme?|orrore", ("Horror",), ("Horror",)),
    (r"com[ée]die?s?|comedia|komödien?|commedia|dr[ôo]le|divertida|lustige?", ("Comedy",), ("Comedy",)),
    (r"romantiques?|romance|rom[áa]ntic[ao]s?|romantische?|liebesfilme?|romantic[oi]|d'amour|de amor",
     ("Romance",), ("Romance",)),
    (r"d'?action|de acci[oó]n|actionfilme?|d'azione", ("Action",), ("Action",)),
    (r"d'?aventures?|de aventuras?|abenteuer(?:filme?)?|d'avventura", ("Adventure",), ("Adventure",)),
    (r"dessins? anim[ée]s?|d'animation|animad[ao]s?|zeichentrick(?:filme?)?|animazione",
     ("Animation",), ("Animation",)),
    (r"documentaires?|documentales?|dokumentar(?:filme?)?|documentari[oi]", ("Documentary",),
     ("Documentary",)),
    (r"policiers?|policiac[ao]s?|krimis?|gialli|giallo", ("Crime",), ("Crime",)),
    (r"guerre|de guerra|kriegsfilme?|di guerra", ("War",), ("War",)),
    (r"en famille|en familia|para (?:la )?familia|pour (?:la )?famille|f[üu]r die familie|per famiglie|"
     r"enfants|niños|kinder(?:filme?)?|bambini", ("Children",), ("Children",)),
    (r"drames?|dramas?|drammatic[oi]", ("Drama",), ("Drama",)),
]

#: Negation words of those languages ("pas de films d'horreur", "sin terror", "keine Komödie").
NEGATION_EU = [r"pas de", r"pas d'", r"sans", r"surtout pas", r"nada de", r"ohne", r"keine?n?",
               r"nicht", r"niente", r"senza"]

#: Function words that mark a request as French, Spanish, German or Italian.
FOREIGN_MARKERS = set("""
le la les un une des du au aux pas très avec pour que qui est et je voudrais cherche
el los las una muy con por que quiero busco película películas
der die das und ein eine einen mit nicht ich möchte suche
il lo gli della che voglio cerco
""".split())

#: Phrases that look negative but are not a dislike of what follows.
NOT_NEGATION_EN = [
    r"(?:do|would|does|did)(?:n'?t| not) mind", r"not opposed to", r"no matter", r"not only",
    r"not just", r"can'?t wait", r"(?:do|does)(?:n'?t| not) (?:care|know|matter)",
    r"not (?:sure|picky|fussy|particular|bothered)", r"no (?:idea|preference|problem|worries)",
    r"nothing (?:specific|in particular|better than|beats)", r"never (?:get|gets) (?:tired|sick|bored)",
    r"(?:have|has|had)(?:n'?t| not| never) (?:seen|watched)", r"never (?:seen|watched)",
    r"not seen", r"(?:no|not a) (?:lot|ton) of", r"no longer than",
]

#: Cues that negate what follows them, up to the end of the clause.
NEGATION_EN = [
    r"anything but", r"everything but", r"all but", r"except(?: for)?", r"other than", r"apart from",
    r"(?:do|does|did|would|will|could)(?:n'?t| not)(?: really| particularly| much| even)?"
    r"(?: like| love| enjoy| want| care for| need| watch| fancy| dig)?",
    r"dont(?: really)?(?: like| love| enjoy| want| care for| watch)?",
    r"won'?t(?: watch)?", r"can'?t stand", r"cannot stand", r"can not stand",
    r"(?:is|are|am|i'?m)(?:n'?t| not)(?: really| too| a big| a huge| the biggest| much| a)?(?: into| fan of| fans of| big on| keen on| interested in)?",
    r"not(?: really| too| a big| a huge| the biggest| much| a)?(?: into| fan of| fans of| big on| keen on| interested in)?",
    r"no more", r"no", r"nothing", r"none", r"never", r"neither", r"nor", r"without", r"avoid(?:ing)?",
    r"skip", r"hat(?:e|es|ed|ing)", r"dislik(?:e|es|ed|ing)", r"detest", r"despise", r"loath(?:e|es)",
    r"sick of", r"tired of", r"fed up with", r"stay away from", r"spare me", r"less", r"too much",
    r"allergic to", r"rather not",
]

#: Cues after a term that negate it ("horror is not my thing").
POST_NEGATION_EN = [
    r"(?:is|are|'s|'re)?(?: just| really)? not (?:really )?(?:my|for me)\b",
    r"(?:isn'?t|aren'?t) (?:really )?(?:my|for me)\b",
    r"not my (?:thing|style|cup of tea|taste|favou?rite|type|genre)",
    r"bores? me", r"(?:is|are) (?:the worst|terrible|awful|boring|overrated|not for me)",
    r"gives? me nightmares", r"(?:is|are) a no",
]

#: Cues that end a negation scope ("I hate musicals and love westerns").
POSITIVE_EN = [
    r"like", r"likes", r"love", r"loves", r"loved", r"enjoy", r"enjoys", r"enjoyed", r"prefer",
    r"preferably", r"want", r"wants", r"adore", r"into", r"fan of", r"looking for", r"fine", r"ok",
    r"okay", r"good", r"great", r"instead", r"rather", r"please", r"maybe", r"also", r"but",
    r"something",
]

NEGATION_ZH = [r"不太喜欢", r"不喜欢", r"不想看", r"不想要", r"不想", r"不要", r"不爱", r"讨厌", r"不看",
               r"受不了", r"除了", r"别", r"没兴趣", r"拒绝", r"不需要"]
POST_NEGATION_ZH = [r"不感兴趣", r"没兴趣", r"就算了", r"免了", r"不行", r"不要"]
POSITIVE_ZH = [r"喜欢", r"爱看", r"想看", r"要", r"可以", r"都行", r"偏好", r"推荐"]

#: Strong clause boundaries (negation never crosses them).
CONTRAST_EN = r"but|however|though|although|whereas|while|instead|yet"
CONTRAST_ZH = r"但是|但|不过|可是|然而"

#: Words a comma-separated list may consist of for a negation to carry across the comma
#: ("no horror, gore or slashers").
LIST_FILLER = {
    "a", "an", "the", "or", "and", "nor", "any", "anything", "too", "very", "much", "stuff",
    "movie", "movies", "film", "films", "please", "either", "etc", "of", "kind", "kinds", "type",
    "types", "sort", "really", "overly", "super", "ones", "things", "thing", "plus", "also",
}

#: Mood / theme words worth keeping as keywords even when no tag spells them.
MOOD_TERMS = [
    "mind-bending", "mind bending", "mindfuck", "dark", "feel-good", "feel good", "uplifting",
    "heartwarming", "thought-provoking", "thought provoking", "twist", "twists", "plot twist",
    "twist ending", "clever", "smart", "quirky", "violent", "violence", "gory", "slow",
    "fast-paced", "fast paced", "inspiring", "inspirational", "sad", "emotional", "atmospheric",
    "visually stunning", "beautiful", "cult", "surreal", "weird", "philosophical",
    "psychological", "time travel", "dystopia", "superhero", "superheroes", "true story",
    "based on a true story", "coming of age", "high school", "zombies", "vampires", "aliens",
    "robots", "space", "heist", "revenge", "disturbing", "intense", "light-hearted",
    "lighthearted", "silly", "gritty", "epic", "dreamlike", "satire", "witty", "cheesy",
    "nostalgic", "realistic", "suspense", "tense", "creepy", "spooky", "cute", "wholesome",
    "romantic", "musical", "bloody", "explicit", "sexual", "sex", "nudity", "swearing",
]

#: Decades written as words ("the nineties"); the model's eras are also checked against
#: "noughties" / "aughts" (:mod:`recsys.grounding`).
DECADE_WORDS = {"twenties": 1920, "thirties": 1930, "forties": 1940, "fifties": 1950,
                "sixties": 1960, "seventies": 1970, "eighties": 1980, "nineties": 1990}

#: Bookkeeping tags users put on movies ("in netflix queue", "dvd"): they say nothing about
#: the film, so no synthetic description (recsys.profiles, recsys.evaluation.descriptions)
#: quotes them.
META_TAGS = frozenset({"in netflix queue", "imdb top 250", "bd-r", "dvd", "clv", "seen", "netflix"})

#: The few words a keyword or title check against the request ignores (a subset of
#: :data:`STOPWORDS`: only articles, joiners and "movie"/"film", so content words still count).
MATCH_STOPWORDS = frozenset({"the", "a", "an", "of", "and", "or", "in", "on", "with", "for", "to", "movie",
                             "movies", "film", "films", "about", "that", "is"})

#: Words never taken as keywords on their own (request filler and function words).
STOPWORDS = set("""
a about above after again against all also am an and any anything are aren't as at be because
been before being below between both but by can can't cannot could couldn't did didn't do does
doesn't doing don't down during each else ever every few for from further get gets got had has
have haven't having he her here hers herself him himself his how i i'd i'll i'm i've if in into
is isn't it it's its itself just let's like likes liked love loved loves me might more most
much must my myself no nor not now of off on once only or other ought our ours ourselves out over
own really same she should so some something such than that that's the their theirs them
themselves then there these they this those through to too under until up very want wants
wanted was wasn't we were what when where which while who whom why will with would you your
yours yourself yourselves hi hello hey thanks thank please movie movies film films watch watching
watched looking look recommend recommendation recommendations suggest suggestion suggestions
good great best nice kind type sort some any maybe perhaps prefer preferably enjoy enjoyed
fine ok okay lot lots bit little today tonight night weekend see seen seem think know need
mood feel feeling fan fans favorite favourite genre genres stuff thing things one ones new old
time times way something anything everything nothing someone year years day days recently
well also even still yes yeah sure hmm um oh lol haha can't could've would've should've
""".split())


#: Chinese names of well-known film people → the name the catalogue's knowledge uses.
#: Read by :class:`recsys.knowledge.PeopleIndex` (only names the knowledge knows are used).
PEOPLE_ZH: dict[str, str] = {
    "周星驰": "Stephen Chow", "周星馳": "Stephen Chow", "成龙": "Jackie Chan", "成龍": "Jackie Chan",
    "李连杰": "Jet Li", "李連杰": "Jet Li", "李小龙": "Bruce Lee", "甄子丹": "Donnie Yen",
    "周润发": "Chow Yun-fat", "梁朝伟": "Tony Leung Chiu-wai", "张曼玉": "Maggie Cheung",
    "巩俐": "Gong Li", "章子怡": "Zhang Ziyi", "王家卫": "Wong Kar-wai", "张艺谋": "Zhang Yimou",
    "李安": "Ang Lee", "吴宇森": "John Woo", "陈凯歌": "Chen Kaige", "徐克": "Tsui Hark",
    "宫崎骏": "Hayao Miyazaki", "宮崎駿": "Hayao Miyazaki", "北野武": "Takeshi Kitano",
    "黑泽明": "Akira Kurosawa", "是枝裕和": "Hirokazu Kore-eda", "奉俊昊": "Bong Joon-ho",
    "诺兰": "Christopher Nolan", "克里斯托弗·诺兰": "Christopher Nolan",
    "斯皮尔伯格": "Steven Spielberg", "史蒂文·斯皮尔伯格": "Steven Spielberg",
    "昆汀": "Quentin Tarantino", "昆汀·塔伦蒂诺": "Quentin Tarantino", "卡梅隆": "James Cameron",
    "詹姆斯·卡梅隆": "James Cameron", "库布里克": "Stanley Kubrick", "希区柯克": "Alfred Hitchcock",
    "斯科塞斯": "Martin Scorsese", "马丁·斯科塞斯": "Martin Scorsese", "大卫·芬奇": "David Fincher",
    "芬奇": "David Fincher", "雷德利·斯科特": "Ridley Scott", "蒂姆·波顿": "Tim Burton",
    "伍迪·艾伦": "Woody Allen", "韦斯·安德森": "Wes Anderson", "科恩兄弟": "Joel Coen",
    "汤姆·汉克斯": "Tom Hanks", "汤姆汉克斯": "Tom Hanks", "汉克斯": "Tom Hanks",
    "莱昂纳多": "Leonardo DiCaprio", "小李子": "Leonardo DiCaprio", "莱昂纳多·迪卡普里奥": "Leonardo DiCaprio",
    "布拉德·皮特": "Brad Pitt", "皮特": "Brad Pitt", "汤姆·克鲁斯": "Tom Cruise", "阿汤哥": "Tom Cruise",
    "摩根·弗里曼": "Morgan Freeman", "强尼·德普": "Johnny Depp", "约翰尼·德普": "Johnny Depp",
    "金·凯瑞": "Jim Carrey", "金凯瑞": "Jim Carrey", "罗宾·威廉姆斯": "Robin Williams",
    "梅丽尔·斯特里普": "Meryl Streep", "娜塔莉·波特曼": "Natalie Portman", "斯嘉丽·约翰逊": "Scarlett Johansson",
    "安妮·海瑟薇": "Anne Hathaway", "休·杰克曼": "Hugh Jackman", "基努·里维斯": "Keanu Reeves",
    "施瓦辛格": "Arnold Schwarzenegger", "史泰龙": "Sylvester Stallone", "威尔·史密斯": "Will Smith",
    "马特·达蒙": "Matt Damon", "克里斯蒂安·贝尔": "Christian Bale", "贝尔": "Christian Bale",
    "罗伯特·德尼罗": "Robert De Niro", "阿尔·帕西诺": "Al Pacino", "杰克·尼科尔森": "Jack Nicholson",
    "奥黛丽·赫本": "Audrey Hepburn", "卓别林": "Charles Chaplin", "憨豆": "Rowan Atkinson",
}

#: Chinese titles of well-known films → the MovieLens title (used when the knowledge has no
#: Chinese title for them; the knowledge's own ``title_zh`` adds many more).
TITLES_ZH: dict[str, str] = {
    "盗梦空间": "Inception (2010)", "星际穿越": "Interstellar (2014)", "黑客帝国": "Matrix, The (1999)",
    "阿甘正传": "Forrest Gump (1994)", "肖申克的救赎": "Shawshank Redemption, The (1994)",
    "泰坦尼克号": "Titanic (1997)", "阿凡达": "Avatar (2009)", "蝙蝠侠：黑暗骑士": "Dark Knight, The (2008)",
    "黑暗骑士": "Dark Knight, The (2008)", "搏击俱乐部": "Fight Club (1999)", "低俗小说": "Pulp Fiction (1994)",
    "教父": "Godfather, The (1972)", "辛德勒的名单": "Schindler's List (1993)",
    "这个杀手不太冷": "Léon: The Professional (a.k.a. The Professional) (Léon) (1994)",
    "千与千寻": "Spirited Away (Sen to Chihiro no kamikakushi) (2001)",
    "龙猫": "My Neighbor Totoro (Tonari no Totoro) (1988)", "霸王别姬": "Farewell My Concubine (Ba wang bie ji) (1993)",
    "少林足球": "Shaolin Soccer (Siu lam juk kau) (2001)", "功夫": "Kung Fu Hustle (Gong fu) (2004)",
    "卧虎藏龙": "Crouching Tiger, Hidden Dragon (Wo hu cang long) (2000)", "英雄": "Hero (Ying xiong) (2002)",
    "花样年华": "In the Mood For Love (Fa yeung nin wa) (2000)", "重庆森林": "Chungking Express (Chung Hing sam lam) (1994)",
    "楚门的世界": "Truman Show, The (1998)", "海上钢琴师": "Legend of 1900, The (a.k.a. The Legend of the Pianist on the Ocean) (Leggenda del pianista sull'oceano) (1998)",
    "美丽人生": "Life Is Beautiful (La Vita è bella) (1997)", "放牛班的春天": "Chorus, The (Choristes, Les) (2004)",
    "当幸福来敲门": "Pursuit of Happyness, The (2006)", "怦然心动": "Flipped (2010)",
    "机器人总动员": "WALL·E (2008)", "飞屋环游记": "Up (2009)", "玩具总动员": "Toy Story (1995)",
    "海底总动员": "Finding Nemo (2003)", "狮子王": "Lion King, The (1994)", "疯狂动物城": "Zootopia (2016)",
    "寻梦环游记": "Coco (2017)", "头脑特工队": "Inside Out (2015)", "禁闭岛": "Shutter Island (2010)",
    "致命魔术": "Prestige, The (2006)", "记忆碎片": "Memento (2000)", "七宗罪": "Seven (a.k.a. Se7en) (1995)",
    "沉默的羔羊": "Silence of the Lambs, The (1991)", "闪灵": "Shining, The (1980)",
    "侏罗纪公园": "Jurassic Park (1993)", "终结者": "Terminator, The (1984)", "异形": "Alien (1979)",
    "银翼杀手": "Blade Runner (1982)", "回到未来": "Back to the Future (1985)", "大白鲨": "Jaws (1975)",
    "指环王": "Lord of the Rings: The Fellowship of the Ring, The (2001)",
    "哈利·波特与魔法石": "Harry Potter and the Sorcerer's Stone (a.k.a. Harry Potter and the Philosopher's Stone) (2001)",
    "星球大战": "Star Wars: Episode IV - A New Hope (1977)", "拯救大兵瑞恩": "Saving Private Ryan (1998)",
    "无间道": "Infernal Affairs (Mou gaan dou) (2002)", "勇敢的心": "Braveheart (1995)",
    "心灵捕手": "Good Will Hunting (1997)", "死亡诗社": "Dead Poets Society (1989)",
    "三傻大闹宝莱坞": "3 Idiots (2009)", "爱乐之城": "La La Land (2016)",
    "复仇者联盟": "Avengers, The (2012)", "钢铁侠": "Iron Man (2008)", "疯狂的麦克斯：狂暴之路": "Mad Max: Fury Road (2015)",
}
