SELECT
  *
FROM (
  SELECT
    `t14`.`rank_no`,
    `t14`.`product_id`,
    `t6`.`name`,
    `t14`.`revenue`,
    `t14`.`quantity`,
    `t14`.`orders`,
    `t14`.`customers`,
    `t14`.`revenue_share`,
    `t14`.`cumulative_share`,
    `t14`.`abc_rank`
  FROM (
    SELECT
      `t12`.`product_id`,
      `t12`.`revenue`,
      `t12`.`quantity`,
      `t12`.`orders`,
      `t12`.`customers`,
      `t12`.`cum`,
      `t12`.`rank_no`,
      ieee_divide(
        CAST(FLOOR(
          (
            ieee_divide(
              CAST(`t12`.`revenue` AS FLOAT64),
              NULLIF(
                SUM(`t12`.`revenue`) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
                0
              )
            ) * 10000
          ) + 0.5
        ) AS INT64),
        10000
      ) AS `revenue_share`,
      ieee_divide(
        CAST(FLOOR(
          (
            ieee_divide(
              CAST(`t12`.`cum` AS FLOAT64),
              NULLIF(
                SUM(`t12`.`revenue`) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
                0
              )
            ) * 10000
          ) + 0.5
        ) AS INT64),
        10000
      ) AS `cumulative_share`,
      CASE
        WHEN ieee_divide(
          CAST(`t12`.`cum` - `t12`.`revenue` AS FLOAT64),
          SUM(`t12`.`revenue`) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
        ) < 0.7
        THEN 'A'
        WHEN ieee_divide(
          CAST(`t12`.`cum` - `t12`.`revenue` AS FLOAT64),
          SUM(`t12`.`revenue`) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
        ) < 0.9
        THEN 'B'
        ELSE 'C'
      END AS `abc_rank`
    FROM (
      SELECT
        `t11`.`product_id`,
        `t11`.`revenue`,
        `t11`.`quantity`,
        `t11`.`orders`,
        `t11`.`customers`,
        SUM(`t11`.`revenue`) OVER (
          ORDER BY `t11`.`revenue` DESC, `t11`.`product_id` ASC
          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS `cum`,
        (
          ROW_NUMBER() OVER (ORDER BY `t11`.`revenue` DESC, `t11`.`product_id` ASC) - 1
        ) + 1 AS `rank_no`
      FROM (
        SELECT
          `t10`.`product_id`,
          SUM(`t10`.`amount`) AS `revenue`,
          SUM(`t10`.`quantity`) AS `quantity`,
          COUNT(DISTINCT `t10`.`order_id`) AS `orders`,
          COUNT(DISTINCT `t10`.`customer_id`) AS `customers`
        FROM (
          SELECT
            `t3`.`order_id`,
            `t3`.`line_no`,
            `t3`.`product_id`,
            `t3`.`quantity`,
            `t3`.`amount`,
            COALESCE(COALESCE(`t3`.`category`, `t7`.`master_category`), '(未分類)') AS `category`,
            `t9`.`customer_id`,
            `t9`.`ordered_at`,
            `t9`.`order_date`
          FROM `order_items` AS `t3`
          LEFT OUTER JOIN (
            SELECT
              `t0`.`product_id`,
              `t0`.`category` AS `master_category`
            FROM `products` AS `t0`
          ) AS `t7`
            ON `t3`.`product_id` = `t7`.`product_id`
          INNER JOIN (
            SELECT
              `t2`.`order_id`,
              `t2`.`customer_id`,
              `t2`.`ordered_at`,
              DATE(TIMESTAMP_ADD(`t2`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`
            FROM `orders` AS `t2`
            WHERE
              `t2`.`status` = 'completed'
              AND `t2`.`customer_id` IS NOT NULL
              AND `t2`.`ordered_at` < DATETIME('2026-10-31T15:00:00')
          ) AS `t9`
            ON `t3`.`order_id` = `t9`.`order_id`
        ) AS `t10`
        GROUP BY
          1
      ) AS `t11`
    ) AS `t12`
  ) AS `t14`
  LEFT OUTER JOIN (
    SELECT
      `t0`.`product_id`,
      `t0`.`name`
    FROM `products` AS `t0`
  ) AS `t6`
    ON `t14`.`product_id` = `t6`.`product_id`
) AS `t15`
ORDER BY
  `t15`.`rank_no` ASC NULLS LAST
